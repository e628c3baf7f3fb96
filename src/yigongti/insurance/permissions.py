"""Who may write what in insurance, by role and by object. Registered in ``InsuranceConfig.ready``.

The fund's budget, its rules, rates and weights, the rule packs, the reconciliation and the year's close are
the insurance officer's (医保经办); the community's managers and the bureau may run simulations (they read
aggregates, never patients). A discharge's settlement list is completed by the doctors (or the facility
admin, for the coders) of the facility that discharged the patient. A 转外就医备案 is filed by the insurance
officer or by a doctor (who refers the patient out); a pay-later account is settled by the insurance officer
or the admin of the facility that treated the patient."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from yigongti.orgs.models import Role
from yigongti.orgs.permissions import has_role, verb

R = Role
OFFICER = {R.INSURANCE_OFFICER}
ANALYSTS = {R.INSURANCE_OFFICER, R.COMMUNITY_MANAGER, R.BUREAU}
CODERS = {R.DOCTOR, R.FACILITY_ADMIN}  # the treating doctor, the facility office (病案/医保办) that codes


def _officer(user) -> bool:
    return has_role(user, *OFFICER)


@verb("insurance.set_budget", _("只有医保经办人员可以设定基金预算和年度规则"))
def can_set_budget(user, obj) -> bool:
    return _officer(user)


@verb("insurance.post_ledger", _("只有医保经办人员可以过账基金台账"))
def can_post_ledger(user, obj) -> bool:
    return _officer(user)


@verb("insurance.reconcile", _("只有医保经办人员可以导入经办机构对账单"))
def can_reconcile(user, obj) -> bool:
    return _officer(user)


@verb("insurance.close_year", _("只有医保经办人员可以进行年度清算"))
def can_close_year(user, obj) -> bool:
    return _officer(user)


@verb("insurance.load_rules", _("只有医保经办人员可以加载分组方案"))
def can_load_rules(user, obj) -> bool:
    return _officer(user)


@verb("insurance.set_rates", _("只有医保经办人员可以设定费率、权重、点值和基层病组目录"))
def can_set_rates(user, obj) -> bool:
    return _officer(user)


@verb("insurance.group_cases", _("只有医保经办人员可以批量分组"))
def can_group_cases(user, obj) -> bool:
    return _officer(user)


@verb("insurance.simulate", _("只有医保经办人员、医共体管理人员或卫健局可以运行模拟测算"))
def can_simulate(user, obj) -> bool:
    return has_role(user, *ANALYSTS)


@verb("insurance.code_discharge", _("只有出院机构的医生或机构管理员可以填写结算清单"))
def can_code_discharge(user, discharge) -> bool:
    if not has_role(user, *CODERS) or user.facility_id is None:
        return False
    return discharge is None or discharge.facility_id == user.facility_id


@verb("insurance.file_out_of_county", _("只有医保经办人员或医生可以办理转外就医备案"))
def can_file_out_of_county(user, obj) -> bool:
    return has_role(user, R.INSURANCE_OFFICER, R.DOCTOR)


@verb("insurance.open_pay_later", _("只有医保经办人员或就诊机构的医生、护士、管理员可以办理先诊疗后付费"))
def can_open_pay_later(user, encounter) -> bool:
    if _officer(user):
        return True
    if not has_role(user, R.DOCTOR, R.NURSE, R.FACILITY_ADMIN) or user.facility_id is None:
        return False
    return encounter is None or encounter.facility_id == user.facility_id


@verb("insurance.settle_pay_later", _("只有医保经办人员或就诊机构的管理员可以结清先诊疗后付费"))
def can_settle_pay_later(user, account) -> bool:
    if _officer(user):
        return True
    if not has_role(user, R.FACILITY_ADMIN) or user.facility_id is None:
        return False
    return account is None or account.encounter.facility_id == user.facility_id
