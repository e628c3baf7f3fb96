"""The demo's shared diagnosis centers as data: turnaround targets, the catalogue, the lab analytes with LOINC
codes, units and adult reference ranges (《全国临床检验操作规程》第4版 / WS/T 402-2012, WS/T 404), report
templates and the report texts the demo's readers sign, the devices each level of facility has.

The critical-value table and the ECG / imaging finding lists are the telemedicine app's own data files
(``telemedicine/data/critical_rules.json``, ``critical_findings.json``); the demo loads them as they are."""

from __future__ import annotations

# kind → (name, routine, urgent, emergency turnaround minutes, ack minutes, ack minutes 急诊, escalate every)
CENTERS = {
    "ecg": ("远程心电诊断中心", 120, 30, 10, 10, 5, 10),
    "imaging": ("远程影像诊断中心", 24 * 60, 120, 30, 10, 5, 10),
    "lab": ("临床检验中心", 24 * 60, 120, 45, 10, 5, 10),
    "pathology": ("病理诊断中心", 5 * 24 * 60, 3 * 24 * 60, 24 * 60, 30, 15, 15),
    "consultation": ("远程会诊中心", 2 * 24 * 60, 4 * 60, 60, 10, 5, 10),
}
PHONES = {"ecg": "0746-2212601", "imaging": "0746-2212602", "lab": "0746-2212603", "pathology": "0746-2212604",
          "consultation": "0746-2212605"}

# (center kind, code, name, modality, body part, specimen, specialty department, price, recognised, validity days)
ITEMS = [
    ("ecg", "ECG12", "常规十二导联心电图", "ECG", "", "", "", "25.00", False, 0),
    ("imaging", "DX-CHEST", "胸部正位 DR", "DX", "胸部", "", "", "70.00", True, 180),
    ("imaging", "DX-LSPINE", "腰椎正侧位 DR", "DX", "腰椎", "", "", "120.00", True, 180),
    ("imaging", "CT-HEAD", "头颅 CT 平扫", "CT", "头颅", "", "", "220.00", True, 180),
    ("imaging", "CT-CHEST", "胸部 CT 平扫", "CT", "胸部", "", "", "260.00", True, 180),
    ("imaging", "CT-ABD", "上腹部 CT 平扫", "CT", "上腹部", "", "", "280.00", True, 180),
    ("imaging", "US-ABD", "腹部彩超（肝胆胰脾）", "US", "腹部", "", "", "120.00", False, 0),
    ("lab", "CBC", "血常规", "", "", "全血（EDTA）", "", "20.00", True, 7),
    ("lab", "CHEM", "生化（电解质、血糖、肝肾功能）", "", "", "血清", "", "90.00", True, 7),
    ("lab", "COAG", "凝血四项", "", "", "枸橼酸钠抗凝血", "", "70.00", True, 3),
    ("lab", "TROP", "心肌肌钙蛋白 I", "", "", "血清", "", "80.00", False, 0),
    ("pathology", "PATH-BIOPSY", "活检组织病理检查", "SM", "", "组织", "", "300.00", False, 0),
    ("pathology", "PATH-SURG", "手术标本病理检查", "SM", "", "组织", "", "400.00", False, 0),
    ("consultation", "CONS-CARD", "心血管内科远程会诊", "", "", "", "心血管内科", "100.00", False, 0),
    ("consultation", "CONS-NEURO", "神经内科远程会诊", "", "", "", "神经内科", "100.00", False, 0),
    ("consultation", "CONS-RESP", "呼吸与危重症医学科远程会诊", "", "", "", "呼吸与危重症医学科", "100.00", False, 0),
    ("consultation", "CONS-ONC", "肿瘤科远程会诊", "", "", "", "肿瘤科", "100.00", False, 0),
    ("consultation", "CONS-ENDO", "内分泌科远程会诊", "", "", "", "内分泌科", "100.00", False, 0),
]

# (code = OBX-3, LOINC, name, abbreviation, unit, unit factors to ours, ref low, ref high, decimals, panel,
#  demo mean, demo sd) — the names the critical-value table's "analyte" refers to
ANALYTES = [
    ("WBC", "6690-2", "白细胞计数", "WBC", "10^9/L", {"10^3/uL": 1}, "3.5", "9.5", 2, "CBC", 6.5, 1.8),
    ("HGB", "718-7", "血红蛋白", "HGB", "g/L", {"g/dL": 10}, "115", "175", 0, "CBC", 135, 15),
    ("PLT", "777-3", "血小板计数", "PLT", "10^9/L", {"10^3/uL": 1}, "125", "350", 0, "CBC", 220, 55),
    ("K", "2823-3", "钾", "K", "mmol/L", {"mEq/L": 1}, "3.5", "5.3", 2, "CHEM", 4.2, 0.35),
    ("NA", "2951-2", "钠", "Na", "mmol/L", {"mEq/L": 1}, "137", "147", 1, "CHEM", 141, 2.5),
    ("CA", "17861-6", "钙", "Ca", "mmol/L", {"mg/dL": 0.2495}, "2.11", "2.52", 2, "CHEM", 2.3, 0.1),
    ("GLU", "2345-7", "葡萄糖", "GLU", "mmol/L", {"mg/dL": 0.0555}, "3.9", "6.1", 2, "CHEM", 5.3, 0.6),
    ("CR", "2160-0", "肌酐", "Cr", "umol/L", {"mg/dL": 88.4}, "57", "111", 0, "CHEM", 78, 16),
    ("ALT", "1742-6", "丙氨酸氨基转移酶", "ALT", "U/L", {}, "9", "50", 0, "CHEM", 24, 9),
    ("TBIL", "1975-2", "总胆红素", "TBIL", "umol/L", {"mg/dL": 17.1}, "0", "21", 1, "CHEM", 12, 4),
    ("PT", "5902-2", "凝血酶原时间", "PT", "s", {}, "11", "14.5", 1, "COAG", 12.4, 0.8),
    ("INR", "6301-6", "国际标准化比值", "INR", "", {}, "0.8", "1.2", 2, "COAG", 1.0, 0.08),
    ("APTT", "3173-2", "活化部分凝血活酶时间", "APTT", "s", {}, "25", "37", 1, "COAG", 30, 3),
    ("FIB", "3255-7", "纤维蛋白原", "FIB", "g/L", {"mg/dL": 0.01}, "2", "4", 2, "COAG", 3.0, 0.5),
    ("CTNI", "10839-9", "心肌肌钙蛋白 I", "cTnI", "ng/mL", {"ug/L": 1, "ng/L": 0.001, "pg/mL": 0.001}, "0", "0.04",
     3, "TROP", 0.01, 0.006),
]

# (center kind, item code or "", key, name, findings, conclusion); the key is what the demo's draws refer to
TEMPLATES = [
    ("ecg", "ECG12", "normal", "正常心电图",
     "窦性心律，心率 {hr} 次/分，PR 间期 {pr} ms，QRS 时限 {qrs} ms，QT/QTc {qt}/{qtc} ms，电轴正常，"
     "各导联 ST-T 未见明显异常。",
     "窦性心律；正常心电图"),
    ("ecg", "ECG12", "lvh", "左心室高电压",
     "窦性心律，心率 {hr} 次/分，RV5+SV1 = 4.3 mV，V5、V6 导联 ST 段轻度压低，T 波低平。",
     "窦性心律；左心室高电压伴 ST-T 改变"),
    ("ecg", "ECG12", "stt", "ST-T 改变",
     "窦性心律，心率 {hr} 次/分，II、III、aVF、V4–V6 导联 ST 段水平型压低 0.05–0.1 mV，T 波低平或倒置。",
     "窦性心律；ST-T 改变（请结合临床）"),
    ("ecg", "ECG12", "af", "心房颤动",
     "P 波消失，代之以大小不等的 f 波，RR 间期绝对不齐，平均心室率 {hr} 次/分，QRS 时限 {qrs} ms。",
     "心房颤动"),
    ("ecg", "ECG12", "tachy", "窦性心动过速",
     "窦性心律，心率 {hr} 次/分，PR、QRS、QT 间期正常，ST-T 未见明显异常。", "窦性心动过速"),
    ("ecg", "ECG12", "stemi_inferior", "急性下壁心肌梗死",
     "窦性心律，心率 {hr} 次/分，II、III、aVF 导联 ST 段弓背向上抬高 0.2–0.4 mV，I、aVL 导联 ST 段压低。",
     "急性下壁 ST 段抬高型心肌梗死，建议立即启动胸痛中心绿色通道"),
    ("ecg", "ECG12", "stemi_anterior", "急性前壁心肌梗死",
     "窦性心律，心率 {hr} 次/分，V1–V4 导联 ST 段弓背向上抬高 0.3–0.5 mV，II、III、aVF 导联 ST 段压低。",
     "急性前壁 ST 段抬高型心肌梗死，建议立即启动胸痛中心绿色通道"),
    ("ecg", "ECG12", "avb3", "三度房室传导阻滞",
     "P 波与 QRS 波群无关，心房率 78 次/分，心室率 {hr} 次/分，QRS 时限 120 ms。", "三度房室传导阻滞"),
    ("imaging", "DX-CHEST", "dx_normal", "胸部正位片未见异常",
     "两肺纹理清晰，未见明显实质性病变；心影大小形态正常；双膈面光整，肋膈角锐利。", "胸部正位片未见明显异常"),
    ("imaging", "DX-CHEST", "dx_pneumonia", "肺部炎症",
     "右下肺野见斑片状模糊影，边界不清；心影不大；双膈面光整。", "右下肺炎症，建议抗感染治疗后复查"),
    ("imaging", "DX-CHEST", "dx_copd", "慢性支气管炎、肺气肿",
     "两肺纹理增多、紊乱，肺野透亮度增高，膈肌低平，心影狭长。", "慢性支气管炎、肺气肿征象"),
    ("imaging", "DX-CHEST", "dx_ptx", "气胸",
     "左侧胸腔见无肺纹理透亮区，肺组织压缩约 60%，纵隔向右侧移位。", "左侧大量气胸（危急值），建议立即处置"),
    ("imaging", "DX-LSPINE", "dx_spine", "腰椎退行性变",
     "腰椎生理曲度变直，L3–L5 椎体边缘骨质增生，L4/5 椎间隙变窄。", "腰椎退行性变"),
    ("imaging", "CT-HEAD", "ct_head_normal", "头颅 CT 未见异常",
     "脑实质内未见异常密度影，脑室系统大小形态正常，中线结构居中。", "头颅 CT 平扫未见明显异常"),
    ("imaging", "CT-HEAD", "ct_infarct", "脑梗死",
     "左侧基底节区见斑片状低密度影，边界模糊，邻近脑沟变浅，中线结构居中。", "左侧基底节区脑梗死，建议 MRI 进一步检查"),
    ("imaging", "CT-HEAD", "ct_ich", "脑出血",
     "右侧基底节区见团块状高密度影，大小约 3.2 cm × 2.5 cm，周围见低密度水肿带，右侧脑室受压。",
     "右侧基底节区脑出血（危急值），建议神经外科急会诊"),
    ("imaging", "CT-CHEST", "ct_mass", "肺占位",
     "右肺上叶见不规则软组织肿块，大小约 3.5 cm × 2.8 cm，边缘分叶、毛刺，纵隔见肿大淋巴结。",
     "右肺上叶占位，考虑周围型肺癌可能，建议活检"),
    ("imaging", "CT-CHEST", "ct_chest_normal", "胸部 CT 未见异常",
     "两肺纹理清晰，未见实变及结节影，纵隔未见肿大淋巴结。", "胸部 CT 平扫未见明显异常"),
    ("imaging", "CT-ABD", "ct_stone", "胆囊结石",
     "胆囊不大，腔内见多发高密度结节影，胆囊壁稍增厚；肝、胰、脾未见异常。", "胆囊结石并胆囊炎"),
    ("imaging", "CT-ABD", "ct_kidney", "肾结石",
     "右肾盂内见高密度结石影，大小约 0.8 cm，右肾盂轻度积水。", "右肾结石伴轻度肾积水"),
    ("imaging", "US-ABD", "us_stone", "胆囊结石（超声）",
     "胆囊大小正常，壁毛糙，腔内见数个强回声团伴声影，随体位移动。", "胆囊结石"),
    ("imaging", "US-ABD", "us_fatty", "脂肪肝",
     "肝脏形态饱满，实质回声细密增强，后方回声衰减，肝内血管显示欠清。", "脂肪肝（轻度）"),
    ("imaging", "US-ABD", "us_normal", "腹部超声未见异常", "肝、胆、胰、脾未见明显异常。", "肝胆胰脾未见明显异常"),
    ("pathology", "", "path_gallbladder", "慢性胆囊炎",
     "胆囊壁纤维组织增生，慢性炎细胞浸润，黏膜上皮部分脱落，可见 Rokitansky-Aschoff 窦。",
     "（胆囊）慢性胆囊炎伴胆囊结石"),
    ("pathology", "", "path_appendix", "急性化脓性阑尾炎",
     "阑尾全层见大量中性粒细胞浸润，黏膜坏死脱落，浆膜面见纤维素性渗出。", "（阑尾）急性化脓性阑尾炎"),
    ("pathology", "", "path_lung", "肺腺癌",
     "送检肺组织内见异型腺体浸润性生长，细胞核大深染，核仁明显；免疫组化：TTF-1（+），NapsinA（+）。",
     "（右肺上叶穿刺）浸润性腺癌"),
    ("pathology", "", "path_gastric", "慢性萎缩性胃炎",
     "胃黏膜固有腺体减少，间质慢性炎细胞浸润，局灶肠上皮化生。", "（胃窦）慢性萎缩性胃炎伴轻度肠上皮化生"),
    ("pathology", "", "path_hip", "股骨头", "股骨头软骨及骨组织，骨小梁断裂，见出血及骨髓水肿。",
     "（股骨头）骨折后改变"),
    ("pathology", "", "path_kidney", "肾结石", "送检为结石样物，未见组织结构。", "（肾盂）结石"),
]

CONSULT_OPINIONS = {
    "CONS-CARD": "考虑慢性心力衰竭急性加重（NYHA III 级）。建议：限盐限水，呋塞米 20 mg 静推，监测电解质和体重；"
                 "如 48 小时内无改善或出现低血压，转县中心医院心血管内科。",
    "CONS-NEURO": "考虑急性缺血性脑卒中恢复期，NIHSS 4 分。建议继续双抗 21 天后改单抗，他汀强化，早期康复训练；"
                  "出现症状加重即按卒中绿色通道转诊。",
    "CONS-RESP": "慢阻肺急性加重（中度）。建议：雾化吸入支气管扩张剂，口服泼尼松 40 mg 5 天，必要时抗感染；"
                 "SpO2 < 90% 持续或意识改变立即上转。",
    "CONS-ONC": "影像及病理符合肺腺癌，建议完善基因检测（EGFR/ALK/ROS1）后至县中心医院肿瘤科 MDT 制定方案；"
                "期间营养支持、止痛按三阶梯原则。",
    "CONS-ENDO": "2 型糖尿病血糖控制不佳，建议二甲双胍加量至 1.0 g bid，加用 DPP-4 抑制剂；两周后复查空腹及餐后血糖，"
                 "必要时起始基础胰岛素。",
}
CONSULT_QUESTIONS = {
    "CONS-CARD": "慢性心衰患者近 3 天气促加重、双下肢水肿，请协助调整治疗方案，评估是否需上转。",
    "CONS-NEURO": "脑梗死患者恢复期，请指导二级预防及康复方案。",
    "CONS-RESP": "慢阻肺急性加重，基层治疗 2 天效果欠佳，请会诊。",
    "CONS-ONC": "肺占位患者穿刺病理已出，请协助制定下一步诊疗方案。",
    "CONS-ENDO": "糖尿病患者空腹血糖持续 > 10 mmol/L，请协助调整降糖方案。",
}

# Devices a facility of each level has: (kind, modality, manufacturer, model, how many)
COUNTY_DEVICES = [
    ("ecg", "ECG", "日本光电", "ECG-2350", 4), ("modality", "DX", "联影", "uDR 780i", 2),
    ("modality", "CT", "联影", "uCT 530", 1), ("modality", "CT", "西门子", "SOMATOM go.Up", 1),
    ("modality", "US", "迈瑞", "Resona 7", 3),
    ("analyser", "", "希森美康", "XN-1000 血液分析仪", 1), ("analyser", "", "贝克曼库尔特", "AU5800 生化分析仪", 1),
    ("analyser", "", "希森美康", "CS-5100 凝血分析仪", 1), ("analyser", "", "雅培", "ARCHITECT i2000SR 免疫分析仪", 1),
    ("scanner", "SM", "江丰生物", "KF-PRO-120 切片扫描仪", 1),
]
TOWNSHIP_DEVICES = [
    ("ecg", "ECG", "理邦", "SE-1201", 1), ("modality", "DX", "万东", "新东方 1000F", 1),
    ("modality", "US", "迈瑞", "DC-40", 1),
    ("analyser", "", "迈瑞", "BC-5000 血液分析仪", 1), ("analyser", "", "迈瑞", "BS-240 生化分析仪", 1),
]
VILLAGE_ECG = ("ecg", "ECG", "理邦", "SE-301 便携式心电图机", 1)
VILLAGE_ECG_SHARE = 0.6  # of village clinics with an ECG machine (the 全国基层 "心电一张网" target is all of them)

CANCEL_REASONS = ["患者拒绝检查", "患者已转上级医院", "重复申请", "患者未到检查室", "标本溶血，重新采集"]
REPEAT_REASONS = ["病情变化，需复查", "治疗后复查疗效", "外院结果不清晰", "患者新出现症状"]
