"""Reference data of the demo county's 120 year: what callers complain of, how urgent it is graded, what the crew
finds, how long the crew stays on scene, and why a pathway missed its target.

Rates follow the county-level figures the seeds quote (roughly 16–20 dispatches a year per 1,000 rural
residents, a third of them at night, chest pain and stroke together about one call in six)."""

from __future__ import annotations

# calls answered per hour of the day (0–23), relative: a night trough, a morning and an evening peak
HOURLY = [0.55, 0.45, 0.40, 0.38, 0.40, 0.55, 0.80, 1.05, 1.25, 1.35, 1.35, 1.25,
          1.15, 1.10, 1.15, 1.20, 1.20, 1.25, 1.35, 1.40, 1.35, 1.15, 0.90, 0.70]

DISPATCHES_PER_1000 = 17.0  # missions a year per 1,000 residents
UNDISPATCHED_SHARE = 0.22  # calls closed without a vehicle (advice, wrong numbers, hang-ups)
DUPLICATE_SHARE = 0.025  # a second call for the same incident, merged
NO_TRANSPORT_SHARE = 0.07  # missions that end on scene (refused transport, treated, death confirmed)
RECORD_MISSING = 0.015  # missions that reached the patient without a pre-hospital record (the indicator's gap)
ADMISSION_SHARE = 0.35  # of the transported: admissions at most (the rest emergency visits)

# complaint code → (chief complaint as the dispatcher types it, crew impression, impression code, ICD-10,
#                   priority weights I–IV, on-scene minutes (low, high), pathway kind)
COMPLAINTS: dict[str, tuple[str, str, str, str, tuple[float, float, float, float], tuple[int, int], str]] = {
    "chest_pain": ("胸痛、胸闷，伴大汗", "急性胸痛", "chest_pain", "R07.4", (0.35, 0.50, 0.15, 0.0), (8, 16),
                   "chest_pain"),
    "stroke": ("突发口角歪斜、一侧肢体无力", "急性脑卒中", "stroke", "I64", (0.40, 0.55, 0.05, 0.0), (7, 14), "stroke"),
    "trauma": ("车祸外伤", "多发伤", "trauma", "T07", (0.15, 0.45, 0.35, 0.05), (10, 25), "trauma"),
    "fall": ("老人摔倒，髋部疼痛不能站立", "股骨颈骨折？", "trauma", "S72.0", (0.0, 0.25, 0.65, 0.10), (10, 22), ""),
    "dyspnea": ("呼吸困难、气促", "呼吸困难（慢阻肺/心衰急性加重）", "dyspnea", "R06.0", (0.20, 0.50, 0.30, 0.0),
                (10, 20), ""),
    "unconscious": ("意识不清、呼之不应", "意识障碍", "unconscious", "R40.2", (0.60, 0.35, 0.05, 0.0), (10, 20), ""),
    "abdominal": ("腹痛", "急腹症", "abdominal", "R10.4", (0.0, 0.30, 0.60, 0.10), (8, 15), ""),
    "fever": ("发热、咳嗽", "发热待查", "fever", "R50.9", (0.0, 0.10, 0.50, 0.40), (6, 12), ""),
    "obstetric": ("孕妇腹痛、阴道流血", "产科急症", "obstetric", "O46.9", (0.20, 0.60, 0.20, 0.0), (8, 15),
                  "maternal"),
    "poisoning": ("误服农药", "急性有机磷农药中毒", "poisoning", "T60.0", (0.50, 0.50, 0.0, 0.0), (10, 20), ""),
    "other": ("身体不适", "待查", "other", "R69", (0.0, 0.0, 0.50, 0.50), (6, 14), ""),
}
# the complaint of an emergency visit that began with a 120 call (not known from the visit's diagnosis)
EMERGENCY_MIX = {"chest_pain": 0.10, "stroke": 0.05, "trauma": 0.16, "fall": 0.08, "dyspnea": 0.11,
                 "unconscious": 0.07, "abdominal": 0.15, "fever": 0.12, "obstetric": 0.03, "poisoning": 0.03,
                 "other": 0.10}
# an admission's diagnosis → (complaint, share of those admissions that came by 120)
ADMISSION_CALLS = {"I63.9": ("stroke", 0.35), "I25.1": ("chest_pain", 0.22), "I50.9": ("dyspnea", 0.18),
                   "J44.1": ("dyspnea", 0.12), "S72.0": ("fall", 0.55), "O80": ("obstetric", 0.03),
                   "J18.9": ("fever", 0.04)}

UNDISPATCHED_REASONS = [("电话咨询，已给予指导", 0.45), ("误拨/无声电话", 0.30), ("呼救人取消：已自行前往医院", 0.20),
                        ("重复呼救（未关联）", 0.05)]
NO_TRANSPORT_REASONS = [("现场处置后患者拒绝转运（已签字）", 0.6), ("到达现场未见患者", 0.15),
                        ("现场确认死亡", 0.10), ("轻症，现场处置后离开", 0.15)]
TREATMENT = {
    "chest_pain": "吸氧、心电监护、12导联心电图传输；嚼服阿司匹林 300 mg",
    "stroke": "吸氧、测指尖血糖、FAST 评估，通知卒中中心",
    "trauma": "止血包扎、颈托固定、建立静脉通路",
    "fall": "夹板固定、镇痛，平车搬运",
    "dyspnea": "半卧位、吸氧、雾化吸入",
    "unconscious": "保持气道通畅、吸氧、监测血糖",
    "abdominal": "禁食、建立静脉通路",
    "fever": "物理降温，佩戴口罩",
    "obstetric": "左侧卧位、吸氧、建立静脉通路，通知产科",
    "poisoning": "脱去污染衣物、阿托品，通知急诊洗胃",
    "other": "测量生命体征，对症处理",
}
MOUNTAIN_DELAY = ("山路狭窄，车辆无法直达，担架步行", "村内地址不清，反复电话确认", "雨后道路塌方绕行")

# subtypes by pathway (share) and the crew's impression of each
CHEST_PAIN_SUBTYPES = [("stemi", 0.30, "急性ST段抬高型心肌梗死", "I21.9"),
                       ("nstemi", 0.25, "急性非ST段抬高型心肌梗死", "I21.4"), ("ua", 0.30, "不稳定型心绞痛", "I20.0"),
                       ("aortic_dissection", 0.08, "主动脉夹层？", "I71.0"), ("pe", 0.07, "肺栓塞？", "I26.9")]
STROKE_SUBTYPES = [("ischaemic", 0.80, "急性缺血性脑卒中", "I63.9"), ("haemorrhagic", 0.20, "脑出血", "I61.9")]
MATERNAL_SUBTYPES = [("pph", 0.5, "产后出血", "O72.1"), ("eclampsia", 0.2, "子痫前期重度", "O14.1"),
                     ("placental_abruption", 0.3, "胎盘早剥", "O45.9")]

TRAUMA_SCENES = ("国道 G207 两车相撞", "摩托车侧翻", "建筑工地高处坠落", "农用三轮车翻车", "山林砍伐被树砸伤")

# equipment by vehicle kind
EQUIPMENT = {"basic": ["ecg12", "defibrillator", "oxygen", "stretcher"],
             "monitoring": ["ecg12", "defibrillator", "monitor", "ventilator", "infusion_pump", "oxygen", "stretcher"],
             "negative_pressure": ["ecg12", "defibrillator", "monitor", "ventilator", "negative_pressure_cabin",
                                   "oxygen", "stretcher"],
             "neonatal": ["incubator", "neonatal_ventilator", "monitor", "oxygen"]}
