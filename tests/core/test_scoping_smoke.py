from yigongti.core.scoping import scope_for


def test_village_doctor_scope_is_their_village(cast):
    assert scope_for(cast.village_doctor).prefixes == ("431127100201",)
