"""CHS-DRG grouping against the shipped national tables: hand-checked cases (codes read from the tables' own
files under src/yigongti/insurance/rules/), the rule-pack checks, and the batch command."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from yigongti.insurance.drg import (
    GROUPED,
    UNGROUPABLE,
    VERSIONS,
    Case,
    RulePackError,
    group,
    group_many,
    load_pack,
    pack_dir,
    pack_for,
)

V20, V11 = "CHS-DRG 2.0", "CHS-DRG 1.1"


@pytest.fixture(scope="module")
def p20():
    return pack_for(V20)


@pytest.fixture(scope="module")
def p11():
    return pack_for(V11)


def case(*dx: str, procs: tuple[str, ...] = (), sex: str = "1", age: int = 50, **kw) -> Case:
    return Case("t", sex, age, tuple(dx), procs, **kw)


def text(result) -> str:
    return "\n".join(result.trace)


# ------------------------------------------------------------------------------------------------ the packs


def test_both_versions_load_with_their_declared_counts(p20, p11):
    assert VERSIONS == (V20, V11)
    assert p20.counts == {"mdc": 26, "adrg": 409, "drg": 634, "mcc": 4477, "cc": 8009, "cce": 27143,
                          "mdc_rows": 29615, "adrg_rows": 62210, "zd_invalid": 1849, "ss_invalid": 1822}
    assert p11.counts == {"mdc": 26, "adrg": 376, "drg": 628, "mcc": 4678, "cc": 16568, "cce": 28302,
                          "mdc_rows": 29673, "adrg_rows": 59554, "zd_invalid": 0, "ss_invalid": 0}
    assert len(p20.checksum) == 64 and p20.checksum != p11.checksum
    assert pack_for(V20) is p20  # loaded once per process


def test_pack_attributes_answer_from_the_tables(p20):
    assert p20.mdc_names["MDCF"] == "循环系统疾病及功能障碍"
    assert p20.adrg_names["FR1"] == "急性心肌梗死"
    assert p20.drg_names["FR11"] == "急性心肌梗死，伴严重合并症或并发症"
    assert "I21.000x005" in p20.main_diagnoses_of("FR1")
    assert p20.procedures_of("AE1") == frozenset({"55.6100", "55.6901"})
    assert "A02.100" in p20.mcc and "A01.200" in p20.cc and "A01.200" not in p20.mcc
    assert p20.valid_diagnosis("I21.000x005") and not p20.valid_diagnosis("B95.000")  # B95.000: ZD_INVALID
    assert p20.valid_procedure("55.6901") and p20.valid_procedure("00.0101")  # 00.0101: SS_INVALID, still known
    assert not p20.valid_procedure("99.99x999")
    assert p20.known_diagnosis("Z37.000x001") and not p20.valid_diagnosis("Z37.000x001")  # only as other diagnosis


def _shape(pack, adrg):
    return [[("|".join(x.kind for x in r.alts) if r.alts else r.kind) for r in alt]
            for alt in pack.rules[adrg].alternatives]


@pytest.mark.parametrize(("version", "adrg", "shape"), [
    (V20, "BB2", [["main_dx", "main_proc"]]),  # 包含以下主要诊断 + 包含以下主要手术或操作
    (V20, "AC1", [["any_proc", "any_proc"]]),  # 同时包含以下手术或操作 … 和 …
    (V20, "AH2", [["other_dx|any_proc", "any_proc"]]),  # 入组条件：（其他诊断或手术或操作 1）+手术或操作 2
    (V20, "IB1", [["main_dx", "main_proc"], ["main_proc"], ["any_proc", "any_proc"]]),  # 入组条件 1/2/3
    (V20, "OF1", [["main_dx", "main_proc"], ["main_dx", "other_dx", "main_proc"]]),  # 主要诊断 1 / 2 + 其他诊断
    (V20, "WB3", [["main_dx|other_dx", "main_proc"]]),  # （主要诊断或其他诊断）+主要手术或操作
    (V20, "WJ1", [["main_proc"]]),  # 包含 WB1、WB2、WB3 的所有主要手术或操作
    (V20, "WR2", [["main_dx"], ["other_dx"]]),  # 包含以下主要诊断 / 或包含以下其他诊断
    (V20, "OR1", [["other_dx"]]),  # 包含以下其他诊断
    (V20, "PS1", [["any_dx"]]),  # 包含以下主要诊断或其他诊断
    (V20, "SB1", [["or_proc"]]),  # 包含全部手术或操作
    (V20, "ZZ1", [["no_or_proc"]]),  # 符合 MDCZ 诊断表，且无手术或操作
    (V11, "JA1", [["main_dx", "any_proc", "any_proc"], ["main_dx", "any_proc", "any_proc", "any_proc"]]),  # 手术表
    (V11, "IB1", [["main_dx", "any_proc", "any_proc"]]),  # 包含以下主要诊断 + 同时包含以下手术 … 和 …
    (V11, "YC1", [["any_dx", "or_proc"]]),  # 包含以下诊断 + 全部手术
    (V11, "ZZ1", [["no_or_proc"]]),  # 符合 MDCZ 主诊表，且无手术
])
def test_each_condition_form_of_the_tables_is_read(version, adrg, shape):
    pack = pack_for(version)
    assert _shape(pack, adrg) == shape
    assert all(r.codes or r.alts or r.kind in ("or_proc", "no_or_proc")
               for alt in pack.rules[adrg].alternatives for r in alt)


def test_wj1_takes_the_main_procedures_of_wb1_to_wb3(p20):
    wb = set().union(*(r.codes for a in ("WB1", "WB2", "WB3") for alt in p20.rules[a].alternatives for r in alt
                       if r.kind == "main_proc"))
    assert p20.procedures_of("WJ1") == wb and wb


def test_a_pack_missing_one_mcc_row_is_refused(tmp_path):
    copy = tmp_path / "CHS_DRG_20"
    shutil.copytree(pack_dir(V20), copy)
    mcc = copy / "MCC.dat"
    lines = mcc.read_text(encoding="utf-8").splitlines(keepends=True)
    mcc.write_text("".join(lines[:10] + lines[11:]), encoding="utf-8")
    with pytest.raises(RulePackError, match=r"mcc 应为 4,477 实为 4,476"):
        load_pack(copy)


def test_a_pack_missing_one_code_of_an_adrg_list_is_refused(tmp_path):
    copy = tmp_path / "CHS_DRG_11"
    shutil.copytree(pack_dir(V11), copy)
    target = next((copy / "ADRG").glob("FR1_*.dat"))
    lines = target.read_text(encoding="utf-8").splitlines(keepends=True)
    target.write_text("".join(lines[:1] + lines[2:]), encoding="utf-8")
    with pytest.raises(RulePackError, match=r"adrg_rows 应为 59,554 实为 59,553"):
        load_pack(copy)


def test_a_pack_with_a_condition_it_cannot_read_is_refused(tmp_path):
    copy = tmp_path / "CHS_DRG_20"
    shutil.copytree(pack_dir(V20), copy)
    target = next((copy / "ADRG").glob("FR1_*.dat"))
    body = target.read_text(encoding="utf-8").replace("包含以下主要诊断：", "包含以下某种诊断：")
    target.write_text(body, encoding="utf-8")
    with pytest.raises(RulePackError, match="FR1"):
        load_pack(copy)


def test_a_new_version_is_a_folder_with_its_declared_counts(tmp_path, p20):
    copy = tmp_path / "CHS_DRG_30"
    shutil.copytree(pack_dir(V20), copy)
    counts = dict(p20.counts)
    (copy / "pack.json").write_text(json.dumps({"version": "CHS-DRG 3.0 (试行)", "counts": counts}), encoding="utf-8")
    pack = load_pack(copy)
    assert pack.version == "CHS-DRG 3.0 (试行)" and pack.checksum != p20.checksum
    assert group(pack, case("I21.000x005")).drg == "FR15"
    counts["drg"] = 700
    (copy / "pack.json").write_text(json.dumps({"version": "CHS-DRG 3.0 (试行)", "counts": counts}), encoding="utf-8")
    with pytest.raises(RulePackError, match="drg 应为 700 实为 634"):
        load_pack(copy)


def test_one_pack_groups_from_several_threads_alike(p20):
    from concurrent.futures import ThreadPoolExecutor

    cases = [case("G91.000x002", "A01.200"), case("I21.000x005", "A02.100"), case("B95.000")] * 200
    expected = [r.drg for r in group_many(p20, cases)]
    with ThreadPoolExecutor(4) as pool:
        runs = list(pool.map(lambda _: [r.drg for r in group_many(p20, cases)], range(4)))
    assert all(run == expected for run in runs)


def test_a_directory_that_is_no_pack_is_refused(tmp_path):
    with pytest.raises(RulePackError, match="不是 CHS-DRG 规则包"):
        load_pack(tmp_path)


# ------------------------------------------------------------------------------------- one case per MDC (2.0)

# (MDC, sex, age, main diagnosis, procedures, other diagnoses, expected ADRG, expected DRG); each code was
# read from that ADRG's file in rules/CHS_DRG_20/ADRG and checked to be in the MDC's file in rules/.../MDC.
MDC_CASES = [
    ("MDCB", "1", 60, "G91.000x002", (), (), "BR1", "BR15"),
    ("MDCC", "1", 60, "C43.100x001", (), (), "CR1", "CR19"),
    ("MDCD", "1", 60, "C00.000", (), (), "DR1", "DR19"),
    ("MDCE", "1", 60, "C33.x00", (), (), "ER1", "ER15"),
    ("MDCF", "1", 60, "I21.000x005", (), (), "FR1", "FR15"),
    ("MDCG", "1", 60, "C15.000", (), (), "GR1", "GR15"),
    ("MDCH", "1", 60, "C22.000", (), (), "HR1", "HR19"),
    ("MDCI", "1", 50, "M48.000x081", ("81.0200x001", "81.6300"), (), "IB1", "IB19"),
    ("MDCJ", "2", 60, "C43.501", (), (), "JR1", "JR19"),
    ("MDCK", "1", 60, "C48.000x002", (), (), "KR1", "KR19"),
    ("MDCL", "1", 60, "I12.000x001", (), (), "LR1", "LR15"),
    ("MDCM", "1", 60, "C49.503", (), (), "MR1", "MR15"),
    ("MDCN", "2", 60, "C46.700x001", (), (), "NR1", "NR15"),
    ("MDCO", "2", 28, "O80.000", (), ("Z37.000x001",), "OR1", "OR19"),
    ("MDCQ", "1", 60, "T86.000", (), (), "QR1", "QR19"),
    ("MDCR", "1", 60, "C91.000", (), (), "RR1", "RR15"),
    ("MDCS", "1", 60, "A01.003", (), (), "SR1", "SR15"),
    ("MDCT", "1", 30, "F20.000", (), (), "TR1", "TR19"),
    ("MDCU", "1", 40, "F10.000", (), (), "UR1", "UR19"),
    ("MDCV", "1", 30, "S00.102", (), (), "VR1", "VR19"),
    ("MDCW", "1", 30, "T20.000", (), ("T31.300",), "WR1", "WR19"),
    ("MDCX", "1", 30, "R41.000", (), (), "XR1", "XR19"),
]


@pytest.mark.parametrize(("mdc", "sex", "age", "main", "procs", "others", "adrg", "drg"), MDC_CASES,
                         ids=[c[0] for c in MDC_CASES])
def test_a_case_of_each_body_system_mdc(p20, mdc, sex, age, main, procs, others, adrg, drg):
    r = group(p20, Case("t", sex, age, (main, *others), procs))
    assert (r.status, r.mdc, r.adrg, r.drg) == (GROUPED, mdc, adrg, drg), r.trace
    assert f"主要诊断 {main}" in r.trace[0] and f"属 {mdc} {p20.mdc_names[mdc]}" in r.trace[0]
    assert any(line.startswith(f"入 ADRG {adrg} {p20.adrg_names[adrg]}") for line in r.trace)
    assert r.trace[-1].startswith(f"DRG {drg} {p20.drg_names[drg]}")


def test_a_surgical_adrg_by_its_second_entry_condition_names_it(p20):
    r = group(p20, case("M48.000x081", procs=("81.0200x001", "81.6300")))
    assert "（入组条件 3）" in text(r)
    assert "手术或操作 81.0200x001 在“手术或操作3”表中" in text(r)
    assert "手术或操作 81.6300 在“手术或操作4”表中" in text(r)


def test_pre_mdc_kidney_transplant_whatever_the_main_diagnosis(p20, p11):
    for pack in (p20, p11):
        r = group(pack, case("I12.000x001", procs=("55.6901",)))
        assert (r.mdc, r.adrg, r.drg) == ("MDCA", "AE1", "AE19")
        assert "先期分组 MDCA" in text(r) and "55.6901" in text(r)


def test_pre_mdc_ventilation_of_96_hours_or_more(p20, p11):
    r = group(p20, case("G91.000x002", procs=("96.0400",), ventilation_hours=120))
    assert (r.mdc, r.adrg, r.drg) == ("MDCA", "AH2", "AH29")
    assert "有创呼吸机 120 小时 ≥ 96，按 96.7201" in text(r)
    assert "手术或操作 96.0400 在“手术或操作1”表中" in text(r)
    # 1.1 has one ADRG for ventilation ≥ 96 h, ECMO and artificial heart, split by complications
    r11 = group(p11, case("G91.000x002", procs=("96.7201",)))
    assert (r11.mdc, r11.adrg, r11.drg) == ("MDCA", "AH1", "AH15")
    # under 96 h the same case is not pre-MDC
    r = group(p20, case("G91.000x002", procs=("96.0400",), ventilation_hours=40))
    assert r.mdc != "MDCA"


def test_newborn_with_weight_groups_in_mdcp_by_the_premature_codes(p20):
    r = group(p20, case("P07.200", sex="2", age=0, age_days=2, birth_weight_g=900))
    assert (r.status, r.mdc, r.adrg, r.drg) == (GROUPED, "MDCP", "PS1", "PS15")
    assert "新生儿（出生 2 天，体重 900 g）入 MDCP" in r.trace[0]


def test_full_term_newborn_and_older_infant(p20):
    r = group(p20, case("A04.000x001", age=0, age_days=3, birth_weight_g=3200))
    assert (r.mdc, r.adrg, r.drg) == ("MDCP", "PU1", "PU19")
    r = group(p20, case("P05.001", age=0, age_days=100))
    assert (r.mdc, r.adrg, r.drg) == ("MDCP", "PV1", "PV19")  # 29 天 ≤ 出生年龄 < 1 周岁


def test_newborn_without_weight_is_ungroupable(p20):
    r = group(p20, case("A04.000x001", age=0, age_days=3))
    assert r.status == UNGROUPABLE and r.drg == ""
    assert "新生儿（出生 3 天）缺出生体重" in r.reason


def test_hiv_as_main_diagnosis(p20):
    r = group(p20, case("B20.000x001"))
    assert (r.status, r.mdc) == (GROUPED, "MDCY")
    assert r.adrg.startswith("Y") and "属 MDCY" in r.trace[0]


def test_multiple_trauma_of_two_body_regions(p20):
    r = group(p20, case("S01.800x011", "S21.101"))
    assert (r.mdc, r.adrg, r.drg, r.complication) == ("MDCZ", "ZZ1", "ZZ15", "CC")
    assert "多发严重创伤" in r.trace[0] and "属头颈部创伤" in r.trace[0] and "S21.101 属胸部创伤" in r.trace[0]
    # one region only: not MDCZ
    assert group(p20, case("S01.800x011")).mdc != "MDCZ"


# ----------------------------------------------------------------------------------- MCC, CC and exclusions


def test_an_mcc_makes_suffix_1(p20):
    r = group(p20, case("I21.000x005", "A02.100"))
    assert (r.drg, r.complication) == ("FR11", "MCC")
    assert "其他诊断 A02.100 为 MCC" in text(r)


def test_an_mcc_in_the_main_diagnosis_exclusion_table_counts_for_nothing(p20):
    # MCC.dat: I21.300x003 → table 88; CCE.dat: I21.000x005 → table 88
    r = group(p20, case("I21.000x005", "I21.300x003"))
    assert (r.drg, r.complication) == ("FR15", "")
    assert "其他诊断 I21.300x003 为 MCC，但被主要诊断 I21.000x005 排除（排除表 88）" in text(r)


def test_a_cc_maps_to_the_suffixes_the_adrg_has(p20):
    # BR1 splits 1/3/5: a CC gives BR13; FR1 splits 1/5 only: a CC gives FR15
    assert group(p20, case("G91.000x002", "A01.200")).drg == "BR13"
    r = group(p20, case("I21.000x005", "I21.300x003", "A01.200"))
    assert (r.drg, r.complication) == ("FR15", "CC")
    assert "其他诊断 A01.200 为 CC（排除表 1 不含主要诊断）" in text(r)


def test_the_same_case_under_both_versions(p20, p11):
    c = case("G91.000x002", "A41.802", "A18.816+K87.0*")
    r20, r11 = group(p20, c), group(p11, c)
    assert (r20.version, r20.drg) == (V20, "BR11")
    assert (r11.version, r11.drg) == (V11, "BR11")
    assert r20.adrg == r11.adrg == "BR1"
    assert "脑卒中" in text(r20) and "颅内出血性疾患" in text(r11)  # each version's own names
    assert "排除表 4" in text(r20) and "排除表 7-4" in text(r11)


# ------------------------------------------------------------------------------------------ ungroupable


def test_a_main_diagnosis_not_valid_as_main(p20):
    r = group(p20, case("B95.000"))
    assert r.status == UNGROUPABLE and (r.mdc, r.adrg, r.drg) == ("", "", "")
    assert "不能作为主要诊断" in r.reason and r.trace[-1].startswith("不能入组：")


def test_a_main_diagnosis_in_no_mdc(p20):
    assert "不在 CHS-DRG 2.0 任何 MDC 的诊断表中" in group(p20, case("Z99.999")).reason


def test_an_unknown_procedure_code(p20, p11):
    r = group(p20, case("I21.000x005", procs=("99.99x999",)))
    assert r.status == UNGROUPABLE and "手术或操作 99.99x999 不在 CHS-DRG 2.0 的手术操作表中" in r.reason
    # 1.1 lists only the procedures that group: an unlisted well-formed code is said not to matter
    r11 = group(p11, case("I21.000x005", procs=("99.99x999",)))
    assert r11.status == GROUPED and "不影响分组" in text(r11)
    assert "不是 ICD-9-CM-3 编码" in group(p11, case("I21.000x005", procs=("abc",))).reason
    assert p11.valid_procedure("99.99x999") and not p11.known_procedure("99.99x999")
    assert not p11.valid_procedure("abc")


def test_sex_contradicting_a_sex_specific_diagnosis(p20):
    r = group(p20, case("C46.700x001", sex="1"))  # 外阴卡波西肉瘤, MDCN only
    assert r.status == UNGROUPABLE and "性别男" in r.reason and "MDCN" in r.reason
    assert "性别女" in group(p20, case("C61.x00", sex="2")).reason  # prostate cancer, MDCM only
    # a diagnosis both sex-specific MDCs list goes to the one of the patient's sex
    assert group(p20, case("C49.503", sex="1")).mdc == "MDCM"
    assert group(p20, case("C49.503", sex="2")).mdc == "MDCN"
    assert group(p20, case("O80.000", "Z37.000x001", sex="1")).status == UNGROUPABLE  # delivery for a man


def test_ages_contradicting_the_case(p20):
    assert "妊娠" in group(p20, case("O80.000", sex="2", age=70)).reason
    assert "年龄矛盾" in group(p20, case("I21.000x005", age=5, age_days=10)).reason
    assert "年龄不合理" in group(p20, case("I21.000x005", age=-1)).reason
    assert "新生儿" in group(p20, case("P05.001", age=30)).reason
    assert "矛盾" in group(p20, case("G91.000x002", procs=("96.0400", "96.7201"), ventilation_hours=30)).reason


def test_an_operating_room_procedure_foreign_to_the_main_diagnosis(p20):
    r = group(p20, case("I21.000x005", procs=("81.0200x001",)))  # spinal fusion for a myocardial infarction
    assert r.status == UNGROUPABLE and r.mdc == "MDCF" and "歧义组 QY" in r.reason


def test_a_non_or_adrg_takes_a_procedure_that_is_surgery_elsewhere(p20):
    # 88.4100 (脑动脉造影) is in BM1 (神经介入检查术, non-OR) and in a surgical ADRG of another MDC
    assert "88.4100" in p20.or_procedures and "88.4100" in p20.procedures_of("BM1")
    r = group(p20, case("G91.000x002", procs=("88.4100",)))
    assert (r.status, r.adrg, r.drg) == (GROUPED, "BM1", "BM15")


def test_no_diagnosis(p20):
    assert group(p20, Case("t", "1", 50, ())).reason == "缺主要诊断"


def test_group_many_keeps_the_order(p20):
    cases = [Case(str(i), "1", 60, ("I21.000x005",) if i % 2 else ("B95.000",)) for i in range(6)]
    results = group_many(p20, cases)
    assert [r.case_id for r in results] == [str(i) for i in range(6)]
    assert [r.status for r in results] == [UNGROUPABLE, GROUPED] * 3


# ------------------------------------------------------------------------------------------ batch command

ROWS = [
    {"case_id": "a", "sex": "1", "age_years": "60", "age_days": "", "birth_weight_g": "", "los_days": "7",
     "discharge_mode": "1", "diagnoses": "I21.000x005|A02.100", "procedures": "", "department": "心内科",
     "ventilation_hours": ""},
    {"case_id": "b", "sex": "2", "age_years": "0", "age_days": "3", "birth_weight_g": "", "los_days": "5",
     "discharge_mode": "1", "diagnoses": "A04.000x001", "procedures": "", "department": "", "ventilation_hours": ""},
    {"case_id": "c", "sex": "x", "age_years": "40", "age_days": "", "birth_weight_g": "", "los_days": "3",
     "discharge_mode": "1", "diagnoses": "I21.000x005", "procedures": "", "department": "", "ventilation_hours": ""},
    {"case_id": "d", "sex": "1", "age_years": "70", "age_days": "", "birth_weight_g": "", "los_days": "20",
     "discharge_mode": "1", "diagnoses": "G91.000x002", "procedures": "96.0400", "department": "",
     "ventilation_hours": "120"},
]


def _cli():
    from yigongti.cli import main

    return main


def _check_output(rows: list[dict[str, str]]) -> None:
    by_id = {r["case_id"]: r for r in rows}
    assert list(by_id) == ["a", "b", "c", "d"]
    assert (by_id["a"]["version"], by_id["a"]["mdc"], by_id["a"]["adrg"], by_id["a"]["drg"],
            by_id["a"]["status"]) == (V20, "MDCF", "FR1", "FR11", GROUPED)
    assert " | 其他诊断 A02.100 为 MCC" in by_id["a"]["trace"]
    assert by_id["b"]["status"] == UNGROUPABLE and "缺出生体重" in by_id["b"]["trace"]
    assert by_id["c"]["status"] == UNGROUPABLE and "sex" in by_id["c"]["trace"]
    assert by_id["d"]["drg"] == "AH29"


def test_batch_command_on_csv(tmp_path):
    src = tmp_path / "cases.csv"
    with src.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(ROWS[0]))
        w.writeheader()
        w.writerows(ROWS)
    out = tmp_path / "groups.csv"
    res = CliRunner().invoke(_cli(), ["drg", "group", "--rules", "CHS-DRG 2.0", "--input", str(src),
                                      "--output", str(out)])
    assert res.exit_code == 0, res.output
    assert "4 例，入组 2，不能入组 2" in res.output
    with out.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == ["case_id", "version", "mdc", "adrg", "drg", "status", "trace"]
    _check_output(rows)


def test_batch_command_on_parquet_with_a_rules_directory(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    src = tmp_path / "cases.parquet"
    table = {k: [r[k] for r in ROWS] for k in ROWS[0]}
    table["age_years"] = [int(v) for v in table["age_years"]]  # typed columns are read as well
    table["diagnoses"] = [v.split("|") for v in table["diagnoses"]]  # and codes as list<string>
    pq.write_table(pa.table(table), src)
    out = tmp_path / "groups.parquet"
    res = CliRunner().invoke(_cli(), ["drg", "group", "--rules", str(pack_dir(V20)), "--input", str(src),
                                      "--output", str(out)])
    assert res.exit_code == 0, res.output
    _check_output(pq.read_table(out).to_pylist())


def test_batch_command_under_1_1(tmp_path):
    src = tmp_path / "cases.csv"
    src.write_text("case_id,sex,age_years,age_days,birth_weight_g,los_days,discharge_mode,diagnoses,procedures\n"
                   "a,1,60,,,7,1,G91.000x002|A41.802,\n", encoding="utf-8")
    out = tmp_path / "g.csv"
    res = CliRunner().invoke(_cli(), ["drg", "group", "--rules", "1.1", "--input", str(src), "--output", str(out)])
    assert res.exit_code == 0, res.output
    row = next(csv.DictReader(out.open(encoding="utf-8")))
    assert (row["version"], row["drg"]) == (V11, "BR11")


@pytest.mark.parametrize(("content", "name", "message"), [
    ("case_id,sex\n1,1\n", "cases.csv", "缺少列"),
    (None, "cases.csv", "输入文件不存在"),
    ("x", "cases.xlsx", "只支持 .csv 或 .parquet"),
    ("not parquet", "cases.parquet", "不是可读的 Parquet 文件"),
])
def test_batch_command_refuses_bad_files_clearly(tmp_path, content, name, message):
    src = tmp_path / name
    if content is not None:
        src.write_text(content, encoding="utf-8")
    res = CliRunner().invoke(_cli(), ["drg", "group", "--rules", "CHS-DRG 2.0", "--input", str(src),
                                      "--output", str(tmp_path / "out.csv")])
    assert res.exit_code != 0
    assert message in res.output


def test_batch_command_refuses_an_unknown_rules_argument(tmp_path):
    src = tmp_path / "cases.csv"
    src.write_text(",".join(ROWS[0]) + "\n", encoding="utf-8")
    res = CliRunner().invoke(_cli(), ["drg", "group", "--rules", "CHS-DRG 9.9", "--input", str(src),
                                      "--output", str(tmp_path / "o.csv")])
    assert res.exit_code != 0 and "既不是版本名" in res.output


def test_grouping_is_pure_python_without_django():
    import subprocess
    import sys

    code = ("import sys; from yigongti.insurance.drg import pack_for, group, Case; "
            "r = group(pack_for('CHS-DRG 2.0'), Case('1', '1', 60, ('I21.000x005',))); "
            "assert r.drg == 'FR15', r; assert 'django' not in sys.modules, 'django imported'")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).parent)
