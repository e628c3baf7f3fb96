"""The starter set of 基层常见病双向转诊指南 rules, loaded by ``services.install_starter_rules`` (the demo
and new installations); afterwards admins maintain them as data. Each rule says two things: where the
*stable* patient is managed (``level``), and where a patient who meets the rule's 上转指征 is treated
(``treat_level``): an up-referral that meets them needs no override reason.

Sources *(verify against the province's current 指南)*: 《国家基本公共卫生服务规范（第三版）》 for 两病 and
严重精神障碍; 国家基层高血压/糖尿病/COPD/哮喘/卒中防治管理指南; 《孕产妇妊娠风险评估与管理工作规范》
(国卫办妇幼发〔2017〕35号); 《中国结核病预防控制工作技术规范》 (结核病定点医疗机构); 胸痛中心、卒中中心、
创伤中心建设标准 (green channel)."""

SOURCE = "基层常见病双向转诊指南（起始规则，可在管理后台维护）"
TB_HOSPITAL = "结核病定点医院"
PSY_HOSPITAL = "精神卫生专科医院"

# (name, ICD-10 from, to, stable-management level, level when up criteria are met, up criteria, down criteria,
#  designated hospital)
STARTER_RULES = [
    ("原发性高血压（稳定期）", "I10", "I15", "township", "county",
     "血压≥180/110 mmHg；连续两次随访血压未达标；出现新的并发症或原有并发症加重；妊娠期高血压",
     "血压稳定达标，治疗方案已确定", ""),
    ("2型糖尿病（稳定期）", "E11", "E11", "township", "county",
     "空腹血糖≥16.7 或 ≤3.9 mmol/L；连续两次随访未达标；出现新的并发症；意识改变",
     "血糖稳定达标，治疗方案已确定", ""),
    # Diabetic ketoacidosis is an emergency treated at the county hospital, never kept at the township.
    ("2型糖尿病伴酮症酸中毒", "E11.1", "E11.1", "county", "county",
     "确诊或疑似酮症酸中毒（血糖显著升高伴酮体阳性、意识改变、深大呼吸）：立即上转",
     "酸中毒纠正、血糖稳定，改为皮下胰岛素或口服药后回基层管理", ""),
    ("1型糖尿病", "E10", "E10", "county", "county",
     "新诊断或分型不明；血糖控制不佳或反复低血糖；酮症酸中毒",
     "胰岛素方案已确定、血糖稳定，基层协同随访", ""),
    ("急性上呼吸道感染", "J00", "J06", "village", "township", "高热不退超过3天；呼吸困难", "", ""),
    ("急性支气管炎", "J20", "J21", "township", "county", "呼吸困难、血氧饱和度<93%", "症状缓解", ""),
    # Pneumonia by severity: non-severe community-acquired pneumonia is treated at the township; severe
    # pneumonia (CURB-65 ≥ 2, respiratory failure, sepsis) at the county hospital.
    ("肺炎（按严重程度）", "J12", "J18", "township", "county",
     "重症肺炎（CURB-65≥2、呼吸频率≥30次/分、血氧饱和度<90%、意识障碍、休克）；基层抗感染治疗72小时无效；"
     "高龄或合并严重基础病",
     "体温正常、病情稳定，可口服药物序贯治疗", ""),
    ("慢性阻塞性肺疾病（稳定期）", "J44", "J44", "township", "county", "急性加重伴呼吸衰竭或意识改变",
     "急性加重已控制，进入稳定期管理", ""),
    ("支气管哮喘", "J45", "J46", "township", "county",
     "中重度急性发作或治疗后不缓解；哮喘持续状态；诊断不明确需肺功能检查；规范治疗3个月仍未控制",
     "急性发作已控制，长期吸入治疗方案已确定", ""),
    ("胃炎", "K29", "K29", "township", "county", "消化道出血、疑似恶性病变", "", ""),
    ("感染性腹泻", "A09", "A09", "township", "county", "重度脱水、休克", "", ""),
    # Tuberculosis: diagnosed and treated at the designated TB hospital; the grassroots supervise the doses.
    ("结核病", "A15", "A19", "township", "county",
     "疑似肺结核（咳嗽咳痰≥2周、咯血或血痰）或确诊患者：须转至结核病定点医院确诊和治疗；治疗中出现严重不良反应",
     "定点医院确定治疗方案后，回基层督导服药与随访管理", TB_HOSPITAL),
    ("严重精神障碍（精神分裂症等）", "F20", "F29", "township", "county",
     "病情复发或急性加重；危险性评估3级及以上或有肇事肇祸倾向；严重药物不良反应；新发疑似病例需确诊",
     "病情稳定，治疗方案已确定，纳入基层严重精神障碍患者管理", PSY_HOSPITAL),
    ("腰背痛", "M54", "M54", "township", "county", "伴神经功能障碍", "", ""),
    ("膝关节病", "M17", "M17", "township", "county", "需手术治疗", "术后进入康复期", ""),
    ("心绞痛", "I20", "I20", "county", "county", "不稳定型心绞痛立即上转", "病情稳定，二级预防", ""),
    ("急性心肌梗死", "I21", "I22", "county", "county", "疑似急性冠脉综合征：立即启动胸痛中心绿色通道",
     "再灌注治疗后病情稳定，进入二级预防与心脏康复", ""),
    ("慢性缺血性心脏病", "I25", "I25", "township", "county", "胸痛发作频繁或加重、心功能恶化",
     "病情稳定，规范二级预防", ""),
    ("心力衰竭", "I50", "I50", "county", "county", "急性加重", "心功能稳定，治疗方案已确定", ""),
    ("脑卒中", "I60", "I64", "county", "county", "疑似急性脑卒中：立即启动卒中中心绿色通道",
     "生命体征稳定，进入康复期", ""),
    ("短暂性脑缺血发作", "G45", "G45", "county", "county",
     "新发短暂性脑缺血发作（ABCD2评分≥4分或48小时内反复发作须立即上转）",
     "病因明确、二级预防方案已确定", ""),
    ("脑血管病后遗症（康复期）", "I69", "I69", "township", "county",
     "新发神经功能缺损或疑似再发卒中；康复效果差需专科评估；严重并发症（吞咽障碍致肺部感染等）",
     "继续社区康复训练与二级预防", ""),
    ("颅脑损伤", "S06", "S06", "county", "county", "立即上转（绿色通道）", "病情稳定，进入康复期", ""),
    ("股骨骨折", "S72", "S72", "county", "county", "需手术治疗", "术后病情稳定，进入康复期", ""),
    ("多发性损伤", "T07", "T07", "county", "county", "严重创伤：立即上转（绿色通道）", "病情稳定，进入康复期", ""),
    ("胆石症", "K80", "K80", "county", "county", "需手术治疗或合并感染", "术后恢复期", ""),
    ("急性阑尾炎", "K35", "K37", "county", "county", "确诊或疑似即上转手术", "术后恢复期", ""),
    ("泌尿系结石", "N20", "N23", "county", "county", "需碎石或手术治疗", "术后恢复期", ""),
    ("慢性肾脏病", "N18", "N18", "county", "county", "肾功能急剧下降、需透析", "病情稳定", ""),
    # Cancers by stage and treatment: diagnosis, staging and first-line treatment above; the intervals between
    # cycles, rehabilitation after surgery and palliative care at the grassroots.
    ("恶性肿瘤（按分期与治疗阶段）", "C00", "C97", "township", "county",
     "疑似或新确诊需病理诊断与分期；需手术、放化疗或靶向治疗；病情进展或出现严重并发症"
     "（复杂或晚期病例由转诊中心转市、省级）",
     "放化疗间歇期、术后康复期、晚期姑息与安宁疗护", ""),
    # Pregnancy: the risk colour decides (workflow.PREGNANCY_*): 绿色 at the township, 黄色 at 二级 hospitals,
    # 橙色/红色/紫色 at county level or above.
    ("妊娠、分娩和产褥期", "O00", "O99", "township", "county",
     "妊娠风险评估为黄色及以上；橙色、红色、紫色须在县级及以上医疗机构管理和分娩；产科急症（出血、子痫、胎膜早破等）",
     "产后病情稳定，回基层进行产后访视", ""),
    ("起源于围生期的某些情况（新生儿）", "P00", "P96", "county", "county",
     "新生儿窒息、早产或低出生体重、病理性黄疸、感染等：转县级危重新生儿救治中心",
     "病情稳定，回基层进行新生儿访视与随访", ""),
]
