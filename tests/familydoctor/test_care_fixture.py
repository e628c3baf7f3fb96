def test_care(care):
    assert care.team.members.count() == 5 and care.household.members.count() == 4
