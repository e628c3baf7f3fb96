"""Demo: the community's drug distribution center (药品配送中心, at the lead county hospital, whose pharmacist
is the demo's) and its shared TCM pharmacy (中药共享配送中心, at the county TCM hospital); a catalogue of ~300
common items with plausible 医保 codes (valid per ``pharmacy.codes``; 基本药物 and 集采 flags, antibiotics
graded, 中药饮片, consumables), of which ~70 make the village catalogue; a year of 集采 agreements, monthly
purchase orders and their receipts into the center (lot, expiry, one 追溯码 per box of a western or patent drug)
— bulk-loaded, balances equal to the ledger's sum; some lots expiring within 90 days; stock limits for every
village clinic × the village catalogue. The center is left well stocked: ``build_distribution`` delivers from it.

The yearly volumes scale with the population (the full county receives ~1 million boxes in a year)."""

from __future__ import annotations

import datetime as dt
import time
from decimal import Decimal

from django.utils import timezone

from yigongti.core.carelevel import CareLevel
from yigongti.orgs.models import Facility, User
from yigongti.pharmacy.codes import insurance_code_error
from yigongti.pharmacy.models import (
    Agreement,
    DistributionCenter,
    Item,
    Lot,
    Movement,
    OrderLine,
    PurchaseOrder,
    Receipt,
    ReceiptLine,
    StockBalance,
    StockLimit,
    Supplier,
    TraceCode,
)

from .bulk import analyze, reset_sequences
from .context import DemoContext
from .familydoctor import fast_load, load, next_id

# generic name | form | strengths (/-separated) | pack | min unit | package | ATC | flags (E 基药, V 集采,
# u/r/s antibiotic grade, v village, t township) | price per package of the first strength
WESTERN = """
氨氯地平片|片剂|5mg|28|片|盒|C08CA01|EVv|12.6
硝苯地平缓释片|片剂|20mg/30mg|30|片|盒|C08CA05|EVv|9.8
厄贝沙坦片|片剂|150mg|14|片|盒|C09CA04|EVv|8.4
马来酸依那普利片|片剂|10mg/5mg|16|片|盒|C09AA02|EVv|6.2
氢氯噻嗪片|片剂|25mg|100|片|瓶|C03AA03|Ev|4.5
酒石酸美托洛尔片|片剂|25mg/50mg|20|片|盒|C07AB02|EVv|5.6
缬沙坦胶囊|胶囊剂|80mg|14|粒|盒|C09CA03|EVv|9.9
卡托普利片|片剂|25mg|100|片|瓶|C09AA01|Ev|5.2
吲达帕胺片|片剂|2.5mg|30|片|盒|C03BA11|EVv|7.1
盐酸二甲双胍片|片剂|0.5g|48|片|盒|A10BA02|EVv|8.5
格列美脲片|片剂|2mg/1mg|15|片|盒|A10BB12|EVv|10.2
阿卡波糖片|片剂|50mg|30|片|盒|A10BF01|EVv|18.6
格列齐德缓释片|片剂|30mg|30|片|盒|A10BB09|EVv|11.3
胰岛素注射液|注射剂|400IU:10ml|1|支|支|A10AB01|Et|42.0
甘精胰岛素注射液|注射剂|300IU:3ml|1|支|支|A10AE04|EV|68.0
阿托伐他汀钙片|片剂|20mg/10mg|7|片|盒|C10AA05|EVv|6.9
瑞舒伐他汀钙片|片剂|10mg|28|片|盒|C10AA07|EVv|11.8
阿司匹林肠溶片|片剂|100mg|30|片|盒|B01AC06|EVv|4.9
氯吡格雷片|片剂|75mg|7|片|盒|B01AC04|EV|12.7
硝酸甘油片|片剂|0.5mg|100|片|瓶|C01DA02|Ev|9.0
单硝酸异山梨酯缓释片|片剂|40mg|24|片|盒|C01DA14|EV|14.8
华法林钠片|片剂|2.5mg|60|片|瓶|B01AA03|Et|16.5
地高辛片|片剂|0.25mg|30|片|瓶|C01AA05|Et|6.0
呋塞米片|片剂|20mg|100|片|瓶|C03CA01|Ev|5.5
螺内酯片|片剂|20mg|100|片|瓶|C03DA01|Ev|8.8
阿莫西林胶囊|胶囊剂|0.25g|24|粒|盒|J01CA04|EVuv|5.8
阿莫西林克拉维酸钾片|片剂|0.375g|12|片|盒|J01CR02|EVuv|16.9
头孢氨苄胶囊|胶囊剂|0.25g|24|粒|盒|J01DB01|Euv|7.2
头孢拉定胶囊|胶囊剂|0.25g|24|粒|盒|J01DB09|Euv|8.0
头孢呋辛酯片|片剂|0.25g|12|片|盒|J01DC02|EVu|14.5
头孢克肟胶囊|胶囊剂|0.1g|6|粒|盒|J01DD08|Vr|18.9
注射用头孢曲松钠|注射剂|1.0g|1|支|支|J01DD04|EVr|6.5
注射用头孢他啶|注射剂|1.0g|1|支|支|J01DD02|EVr|9.8
注射用头孢哌酮舒巴坦钠|注射剂|1.5g|1|支|支|J01DD62|r|26.0
注射用亚胺培南西司他丁钠|注射剂|0.5g|1|支|支|J01DH51|s|98.0
注射用美罗培南|注射剂|0.5g|1|支|支|J01DH02|Vs|56.0
注射用万古霉素|注射剂|0.5g|1|支|支|J01XA01|s|88.0
左氧氟沙星片|片剂|0.5g|4|片|盒|J01MA12|EVr|9.6
左氧氟沙星氯化钠注射液|注射剂|0.5g:100ml|1|瓶|瓶|J01MA12|EVr|12.0
莫西沙星片|片剂|0.4g|3|片|盒|J01MA14|Vr|19.8
阿奇霉素片|片剂|0.25g|6|片|盒|J01FA10|EVu|9.7
注射用阿奇霉素|注射剂|0.5g|1|支|支|J01FA10|EVr|11.5
罗红霉素胶囊|胶囊剂|0.15g|12|粒|盒|J01FA06|Euv|6.3
克拉霉素片|片剂|0.25g|6|片|盒|J01FA09|EVu|10.4
甲硝唑片|片剂|0.2g|100|片|瓶|P01AB01|Euv|3.8
替硝唑片|片剂|0.5g|8|片|盒|J01XD02|Eu|5.1
复方磺胺甲噁唑片|片剂|0.48g|100|片|瓶|J01EE01|Eu|6.7
注射用青霉素钠|注射剂|160万U|1|支|支|J01CE01|Eut|1.2
注射用哌拉西林他唑巴坦钠|注射剂|4.5g|1|支|支|J01CR05|Vr|32.0
布洛芬缓释胶囊|胶囊剂|0.3g|20|粒|盒|M01AE01|EVv|8.9
对乙酰氨基酚片|片剂|0.5g|12|片|盒|N02BE01|Ev|3.6
双氯芬酸钠缓释片|片剂|75mg|10|片|盒|M01AB05|Ev|7.4
塞来昔布胶囊|胶囊剂|0.2g|6|粒|盒|M01AH01|V|12.8
曲马多缓释片|片剂|0.1g|10|片|盒|N02AX02|E|15.0
奥美拉唑肠溶胶囊|胶囊剂|20mg|14|粒|盒|A02BC01|EVv|6.8
泮托拉唑钠肠溶片|片剂|40mg|7|片|盒|A02BC02|EV|9.1
注射用泮托拉唑钠|注射剂|40mg|1|支|支|A02BC02|EV|8.2
雷贝拉唑钠肠溶片|片剂|10mg|14|片|盒|A02BC04|V|13.6
铝碳酸镁咀嚼片|片剂|0.5g|20|片|盒|A02AD04|Ev|11.0
多潘立酮片|片剂|10mg|30|片|盒|A03FA03|Ev|9.5
蒙脱石散|散剂|3g|10|袋|盒|A07BC05|Ev|10.8
口服补液盐散(III)|散剂|5.125g|6|袋|盒|A07CA|Ev|4.2
乳果糖口服溶液|口服溶液剂|100ml|1|瓶|瓶|A06AD11|E|24.0
双歧杆菌三联活菌胶囊|胶囊剂|0.21g|24|粒|盒|A07FA|v|19.5
氯雷他定片|片剂|10mg|6|片|盒|R06AX13|Ev|6.0
西替利嗪片|片剂|10mg|12|片|盒|R06AE07|EVv|7.8
马来酸氯苯那敏片|片剂|4mg|100|片|瓶|R06AB04|Ev|2.5
孟鲁司特钠片|片剂|10mg|5|片|盒|R03DC03|EV|15.9
沙丁胺醇吸入气雾剂|气雾剂|100μg×200揿|1|瓶|瓶|R03AC02|Ev|22.0
布地奈德吸入气雾剂|气雾剂|200μg×100揿|1|瓶|瓶|R03BA02|Et|45.0
氨溴索片|片剂|30mg|20|片|盒|R05CB06|Ev|5.9
盐酸氨溴索注射液|注射剂|15mg:2ml|1|支|支|R05CB06|Et|3.5
复方甘草片|片剂|复方|100|片|瓶|R05CA|Ev|3.0
右美沙芬片|片剂|15mg|24|片|盒|R05DA09|v|6.5
地塞米松片|片剂|0.75mg|100|片|瓶|H02AB02|Ev|2.8
地塞米松磷酸钠注射液|注射剂|5mg:1ml|1|支|支|H02AB02|Et|0.8
泼尼松片|片剂|5mg|100|片|瓶|H02AB07|Ev|3.9
甲泼尼龙片|片剂|4mg|24|片|盒|H02AB04|EV|14.2
左甲状腺素钠片|片剂|50μg|100|片|瓶|H03AA01|EVt|26.0
甲巯咪唑片|片剂|10mg|50|片|瓶|H03BB02|Et|9.6
维生素B1片|片剂|10mg|100|片|瓶|A11DA01|Ev|2.0
维生素C片|片剂|0.1g|100|片|瓶|A11GA01|Ev|2.2
复合维生素B片|片剂|复方|100|片|瓶|A11EA|Ev|2.6
叶酸片|片剂|0.4mg|31|片|盒|B03BB01|Ev|5.0
硫酸亚铁片|片剂|0.3g|100|片|瓶|B03AA07|Ev|4.4
碳酸钙D3片|片剂|600mg|30|片|盒|A12AX|v|18.0
甲钴胺片|片剂|0.5mg|20|片|盒|B03BA05|EV|10.5
葡萄糖注射液|注射剂|5%:250ml|1|瓶|瓶|B05BA03|Ev|2.5
葡萄糖注射液(10%)|注射剂|10%:500ml|1|瓶|瓶|B05BA03|Et|3.2
氯化钠注射液|注射剂|0.9%:250ml|1|瓶|瓶|B05XA03|Ev|2.3
葡萄糖氯化钠注射液|注射剂|5%:500ml|1|瓶|瓶|B05BB02|Ev|3.0
复方氯化钠注射液|注射剂|500ml|1|瓶|瓶|B05BB01|Et|3.4
乳酸钠林格注射液|注射剂|500ml|1|瓶|瓶|B05BB01|Et|5.6
氯化钾注射液|注射剂|1.5g:10ml|1|支|支|B05XA01|Et|0.9
碳酸氢钠注射液|注射剂|5%:250ml|1|瓶|瓶|B05XA02|Et|4.0
肾上腺素注射液|注射剂|1mg:1ml|1|支|支|C01CA24|Ev|1.8
盐酸异丙嗪注射液|注射剂|50mg:2ml|1|支|支|R06AD02|Ev|1.5
硫酸阿托品注射液|注射剂|0.5mg:1ml|1|支|支|A03BA01|Ev|0.6
盐酸利多卡因注射液|注射剂|0.1g:5ml|1|支|支|N01BB02|Ev|0.8
呋塞米注射液|注射剂|20mg:2ml|1|支|支|C03CA01|Et|0.7
注射用甲泼尼龙琥珀酸钠|注射剂|40mg|1|支|支|H02AB04|EV|16.0
硝苯地平片|片剂|10mg|100|片|瓶|C08CA05|Ev|3.5
尼莫地平片|片剂|30mg|50|片|瓶|C08CA06|Et|8.6
盐酸胺碘酮片|片剂|0.2g|10|片|盒|C01BD01|Et|11.0
艾司唑仑片|片剂|1mg|20|片|盒|N05CD04|Et|3.5
地西泮片|片剂|2.5mg|100|片|瓶|N05BA01|Et|3.2
阿普唑仑片|片剂|0.4mg|20|片|盒|N05BA12|Et|3.0
奥氮平片|片剂|5mg|14|片|盒|N05AH03|EV|19.0
利培酮片|片剂|1mg|20|片|盒|N05AX08|EV|8.8
舍曲林片|片剂|50mg|14|片|盒|N06AB06|EV|16.4
艾司西酞普兰片|片剂|10mg|7|片|盒|N06AB10|V|12.5
丙戊酸钠缓释片|片剂|0.5g|30|片|盒|N03AG01|Et|38.0
卡马西平片|片剂|0.1g|100|片|瓶|N03AF01|Et|10.0
左乙拉西坦片|片剂|0.5g|30|片|盒|N03AX14|V|26.0
多奈哌齐片|片剂|5mg|7|片|盒|N06DA02|V|9.4
甲硫酸新斯的明注射液|注射剂|0.5mg:1ml|1|支|支|N07AA01|Et|1.6
坦索罗辛缓释胶囊|胶囊剂|0.2mg|10|粒|盒|G04CA02|EV|12.0
非那雄胺片|片剂|5mg|10|片|盒|G04CB01|EV|9.9
西地那非片|片剂|50mg|1|片|盒|G04BE03|V|18.0
缩宫素注射液|注射剂|10U:1ml|1|支|支|H01BB02|Et|1.4
黄体酮注射液|注射剂|20mg:1ml|1|支|支|G03DA04|Et|2.0
阿昔洛韦片|片剂|0.1g|24|片|盒|J05AB01|Ev|5.0
奥司他韦胶囊|胶囊剂|75mg|10|粒|盒|J05AH02|EVv|28.0
恩替卡韦片|片剂|0.5mg|7|片|盒|J05AF10|EV|9.1
替诺福韦酯片|片剂|300mg|30|片|瓶|J05AF07|EV|19.8
利巴韦林片|片剂|0.1g|24|片|盒|J05AP01|v|4.0
氟康唑胶囊|胶囊剂|0.15g|1|粒|盒|J02AC01|EVr|8.6
阿苯达唑片|片剂|0.2g|10|片|盒|P02CA03|Ev|3.4
红霉素软膏|软膏剂|1%:10g|1|支|支|D06AX|Ev|2.0
莫匹罗星软膏|软膏剂|2%:5g|1|支|支|D06AX09|Ev|12.6
糠酸莫米松乳膏|乳膏剂|0.1%:5g|1|支|支|D07AC13|Ev|14.8
炉甘石洗剂|洗剂|100ml|1|瓶|瓶|D02AB|Ev|5.5
碘伏消毒液|溶液剂|0.5%:100ml|1|瓶|瓶|D08AG02|v|4.8
氧氟沙星滴眼液|滴眼剂|5ml:15mg|1|支|支|S01AE01|Euv|4.5
妥布霉素地塞米松滴眼液|滴眼剂|5ml|1|支|支|S01CA01|Eu|19.0
人工泪液滴眼液|滴眼剂|10ml|1|支|支|S01XA20|v|15.0
硝酸咪康唑乳膏|乳膏剂|2%:15g|1|支|支|D01AC02|Ev|8.0
""".strip()

PATENT = """
感冒清热颗粒|颗粒剂|12g|10|袋|盒|Ev|15.0
连花清瘟胶囊|胶囊剂|0.35g|24|粒|盒|Ev|14.8
板蓝根颗粒|颗粒剂|10g|20|袋|盒|Ev|11.5
小柴胡颗粒|颗粒剂|10g|10|袋|盒|Ev|12.0
藿香正气水|酊剂|10ml|10|支|盒|Ev|8.5
银翘解毒片|片剂|0.52g|24|片|盒|Ev|6.8
双黄连口服液|合剂|10ml|10|支|盒|Ev|16.0
蒲地蓝消炎口服液|合剂|10ml|10|支|盒|v|28.0
复方丹参滴丸|丸剂|27mg|180|丸|瓶|Ev|26.0
速效救心丸|丸剂|40mg|60|丸|瓶|Ev|22.5
麝香保心丸|丸剂|22.5mg|42|丸|瓶|Ev|38.0
血塞通软胶囊|胶囊剂|0.33g|24|粒|盒|E|32.0
银杏叶片|片剂|9.6mg|24|片|盒|Ev|18.0
脑心通胶囊|胶囊剂|0.4g|48|粒|盒|E|42.0
六味地黄丸|丸剂|浓缩丸|200|丸|瓶|Ev|16.5
金匮肾气丸|丸剂|浓缩丸|200|丸|瓶|E|18.0
逍遥丸|丸剂|浓缩丸|200|丸|瓶|Ev|12.0
补中益气丸|丸剂|浓缩丸|200|丸|瓶|E|13.5
香砂养胃丸|丸剂|浓缩丸|200|丸|瓶|Ev|12.8
保和丸|丸剂|浓缩丸|200|丸|瓶|Ev|10.5
牛黄解毒片|片剂|0.27g|24|片|盒|Ev|4.0
三九胃泰颗粒|颗粒剂|20g|6|袋|盒|v|15.5
枫蓼肠胃康颗粒|颗粒剂|8g|9|袋|盒|E|21.0
云南白药胶囊|胶囊剂|0.25g|16|粒|盒|Ev|24.0
云南白药气雾剂|气雾剂|85g+30g|1|套|盒|Ev|48.0
活血止痛胶囊|胶囊剂|0.5g|24|粒|盒|E|19.8
颈复康颗粒|颗粒剂|5g|10|袋|盒|E|26.0
壮骨关节丸|丸剂|6g|10|袋|盒|E|28.0
麝香壮骨膏|贴膏剂|7cm×10cm|10|贴|盒|v|12.0
急支糖浆|糖浆剂|100ml|1|瓶|瓶|Ev|16.0
川贝枇杷膏|煎膏剂|150ml|1|瓶|瓶|v|25.0
蛇胆川贝液|合剂|10ml|6|支|盒|v|13.0
通宣理肺丸|丸剂|7g|10|丸|盒|Ev|14.0
玉屏风颗粒|颗粒剂|5g|12|袋|盒|E|29.0
复方板蓝根颗粒|颗粒剂|15g|20|袋|包|v|8.0
消渴丸|丸剂|0.25g|120|丸|瓶|Ev|23.0
天麻钩藤颗粒|颗粒剂|10g|12|袋|盒|E|26.5
脑络通胶囊|胶囊剂|0.5g|36|粒|盒||30.0
复方血栓通胶囊|胶囊剂|0.5g|36|粒|盒|E|35.0
益母草颗粒|颗粒剂|15g|10|袋|盒|Ev|12.0
妇科千金片|片剂|0.32g|72|片|盒|Ev|22.0
桂枝茯苓胶囊|胶囊剂|0.31g|60|粒|盒|E|36.0
小儿豉翘清热颗粒|颗粒剂|2g|6|袋|盒|v|22.0
小儿感冒颗粒|颗粒剂|6g|10|袋|盒|Ev|9.5
健胃消食片|片剂|0.8g|32|片|盒|v|10.0
黄连上清片|片剂|0.3g|24|片|盒|Ev|6.5
清开灵胶囊|胶囊剂|0.25g|24|粒|盒|E|9.0
穿心莲片|片剂|0.21g|48|片|盒|Ev|7.5
金银花露|合剂|340ml|1|瓶|瓶|v|6.0
马应龙麝香痔疮膏|软膏剂|10g|1|支|支|Ev|12.5
""".strip()

HERBAL = """
黄芪|10g|0.52
党参|10g|0.85
当归|10g|0.95
白术|10g|0.48
茯苓|10g|0.38
甘草|6g|0.22
川芎|10g|0.42
白芍|10g|0.35
熟地黄|15g|0.55
山药|15g|0.42
枸杞子|10g|0.68
陈皮|6g|0.18
半夏|9g|0.62
柴胡|10g|0.85
黄芩|10g|0.44
金银花|10g|1.20
连翘|10g|0.78
板蓝根|15g|0.36
丹参|15g|0.45
红花|6g|1.10
桃仁|10g|0.62
赤芍|10g|0.58
葛根|15g|0.25
桂枝|6g|0.20
麻黄|6g|0.30
杏仁|10g|0.45
桔梗|10g|0.40
麦冬|10g|0.90
五味子|6g|0.65
酸枣仁|15g|2.10
远志|6g|1.05
菊花|10g|0.62
薄荷|6g|0.18
防风|10g|1.00
羌活|10g|1.30
独活|10g|0.50
牛膝|10g|0.42
杜仲|10g|0.48
续断|10g|0.40
三七粉|3g|2.40
""".strip()

CONSUMABLES = """
一次性使用无菌注射器|5ml|100|支|盒|28.0|v
一次性使用无菌注射器(1ml)|1ml|100|支|盒|26.0|v
一次性使用输液器|带针|50|套|盒|45.0|v
一次性使用静脉留置针|22G|50|支|盒|120.0|t
医用脱脂棉签|10cm|50|包|袋|6.0|v
医用纱布块|8cm×8cm|10|块|包|2.5|v
医用绷带|6cm×600cm|10|卷|包|8.0|v
医用胶带|1.25cm×910cm|12|卷|盒|18.0|v
一次性医用口罩|17.5cm×9.5cm|50|只|盒|15.0|v
医用外科口罩|17.5cm×9.5cm|50|只|盒|25.0|v
医用检查手套|M|100|只|盒|32.0|v
医用无菌手套|7.0|50|副|盒|65.0|t
一次性使用导尿包|14Fr|1|套|套|12.0|t
一次性使用吸痰管|12Fr|50|根|包|35.0|t
一次性使用真空采血管|5ml|100|支|盒|40.0|v
血糖试纸|50条|1|盒|盒|78.0|v
一次性采血针|28G|100|支|盒|18.0|v
医用酒精棉片|3cm×6cm|100|片|盒|9.0|v
敷贴(伤口)|6cm×7cm|50|片|盒|22.0|v
一次性使用换药包|基础型|1|套|套|5.5|v
心电电极片|成人|50|片|包|15.0|t
氧气面罩|成人|1|个|个|6.5|t
雾化器面罩套装|成人|1|套|套|9.0|t
一次性使用胃管|16Fr|1|根|根|4.0|t
体温计(电子)|通用|1|支|支|18.0|v
医用冰袋|通用|1|个|个|3.5|v
医用弹力绷带|10cm×4.5m|1|卷|卷|9.5|v
石膏绷带|10cm×270cm|12|卷|盒|45.0|t
缝合线|3-0|12|根|盒|96.0|t
一次性使用无菌手术刀片|11#|100|片|盒|38.0|t
""".strip()

SUPPLIERS = [("国药控股湖南有限公司", "91430000183813888X"), ("华润湖南医药有限公司", "914300007072123456"),
             ("九州通医药集团湖南有限公司", "914301007700123457"), ("湖南省中药材饮片有限公司", "914300001838123458")]
BATCHES = ["第七批国家集采", "第八批国家集采", "第九批国家集采", "湖南省联盟集采"]

LEVELS = {"v": CareLevel.VILLAGE, "t": CareLevel.TOWNSHIP}
GRADES = {"u": "unrestricted", "r": "restricted", "s": "special"}


def _code(kind: str, n: int, atc: str = "") -> str:
    if kind == "western":
        stem = (atc + "00000")[:5].upper().replace(" ", "0")
        return f"X{stem}A{n:03d}A001010101{n % 1000:03d}"
    if kind == "patent":
        return f"ZA{n % 20 + 1:02d}AAL{n:04d}010101{n % 1000:03d}"
    if kind == "consumable":
        return f"C{2 + n % 7:02d}0101{n:03d}0000{n * 37 % 100000:06d}"
    return f"T{n:06d}0100"


def catalogue_rows() -> list[dict]:
    """The demo catalogue as Item field dicts (the same for every seed)."""
    rows: list[dict] = []
    n = 0
    for line in WESTERN.splitlines():
        name, form, strengths, pack, unit, package, atc, flags, price = line.split("|")
        for k, strength in enumerate(strengths.split("/")):
            n += 1
            rows.append({"code": _code("western", n, atc), "kind": "western", "generic_name": name, "form": form,
                         "strength": strength, "pack_size": int(pack), "min_unit": unit, "package_unit": package,
                         "atc": atc, "essential": "E" in flags, "vbp": "V" in flags,
                         "antibiotic": next((GRADES[c] for c in flags if c in GRADES), ""),
                         "min_level": next((LEVELS[c] for c in flags if c in LEVELS), CareLevel.COUNTY),
                         "price": (Decimal(price) * (Decimal("1.6") if k else 1)).quantize(Decimal("0.01"))})
    for i, line in enumerate(PATENT.splitlines(), start=1):
        name, form, strength, pack, unit, package, flags, price = line.split("|")
        rows.append({"code": _code("patent", i), "kind": "patent", "generic_name": name, "form": form,
                     "strength": strength, "pack_size": int(pack), "min_unit": unit, "package_unit": package,
                     "essential": "E" in flags, "vbp": False, "antibiotic": "",
                     "min_level": CareLevel.VILLAGE if "v" in flags else CareLevel.TOWNSHIP, "price": Decimal(price)})
    for i, line in enumerate(HERBAL.splitlines(), start=1):
        name, dose, price = line.split("|")
        rows.append({"code": _code("herbal", i), "kind": "herbal", "generic_name": name, "form": "饮片",
                     "strength": dose, "pack_size": 1, "min_unit": "g", "package_unit": "袋",
                     "essential": False, "vbp": False, "antibiotic": "", "min_level": CareLevel.TOWNSHIP,
                     "price": (Decimal(price) * 1000 / 10).quantize(Decimal("0.01"))})  # per 1 kg bag
    for i, line in enumerate(CONSUMABLES.splitlines(), start=1):
        name, strength, pack, unit, package, price, level = line.split("|")
        rows.append({"code": _code("consumable", i), "kind": "consumable", "generic_name": name, "form": "",
                     "strength": strength, "pack_size": int(pack), "min_unit": unit, "package_unit": package,
                     "essential": False, "vbp": False, "antibiotic": "", "min_level": LEVELS[level],
                     "price": Decimal(price)})
    for r in rows:
        if r["package_unit"] == "袋" and r["kind"] == "herbal":
            r["strength"] = f"1kg（常用量 {r['strength']}）"
        assert insurance_code_error(r["code"], r["kind"]) is None, r["code"]
    return rows


def _month_starts(today: dt.date, n: int) -> list[dt.date]:
    out, m = [], today.replace(day=1)
    for _ in range(n):
        out.append(m)
        m = (m - dt.timedelta(days=1)).replace(day=1)
    return sorted(out)


def build_pharmacy(ctx: DemoContext) -> None:
    t0 = time.perf_counter()
    rng = ctx.pyrandom("pharmacy")
    community = ctx.community
    lead = community.lead_facility
    members = list(Facility.objects.filter(community=community, is_active=True).order_by("code"))
    tcm = next((f for f in members if f.type == "A210"), None)
    DistributionCenter.objects.create(community=community, facility=lead, tcm_facility=tcm)
    center = lead
    villages = [f for f in members if f.care_level == CareLevel.VILLAGE]
    townships = [f for f in members if f.care_level == CareLevel.TOWNSHIP]
    scale = max(ctx.population / 450_000, 0.01)
    tz = timezone.get_current_timezone()
    today = ctx.today
    pharmacist = User.objects.filter(username="pharmacist").first()

    items = [Item(community=community, **r).fill_search() for r in catalogue_rows()]
    items = Item.objects.bulk_create(items)
    suppliers = Supplier.objects.bulk_create([Supplier(community=community, name=n, credit_code=c)
                                              for n, c in SUPPLIERS])
    herb_supplier = suppliers[3]

    def supplier_of(item: Item) -> Supplier:
        return herb_supplier if item.kind == "herbal" else suppliers[item.pk % 3]

    village_items = [it for it in items if it.min_level == CareLevel.VILLAGE]
    # yearly demand in packages: village items for every village clinic, the rest for the county and townships
    yearly: dict[int, int] = {}
    for it in items:
        per_village = rng.randint(24, 90) if it.min_level == CareLevel.VILLAGE else 0
        county = rng.randint(300, 2500) if it.kind != "herbal" else rng.randint(40, 160)
        township = rng.randint(12, 60) * len(townships) if it.min_level != CareLevel.COUNTY else 0
        yearly[it.pk] = max(12, int((per_village * max(len(villages), 1) + county + township) * scale))

    months = _month_starts(today, 12)
    year_start = months[0]
    agreements: dict[int, Agreement] = {}
    ag_rows = []
    for it in items:
        if not it.vbp:
            continue
        agreed = int(yearly[it.pk] * rng.uniform(0.9, 1.15))
        ag_rows.append(Agreement(community=community, item=it, supplier=supplier_of(it),
                                 batch=rng.choice(BATCHES), starts_on=year_start,
                                 ends_on=year_start.replace(year=year_start.year + 1) - dt.timedelta(days=1),
                                 agreed_quantity=agreed, price=(it.price * Decimal("0.85")).quantize(Decimal("0.01"))))
    for a in Agreement.objects.bulk_create(ag_rows):
        agreements[a.item_id] = a

    # monthly orders per supplier, each received (the last month's partly) a few days later
    order_id, line_id, receipt_id, rline_id = (next_id(PurchaseOrder), next_id(OrderLine), next_id(Receipt),
                                               next_id(ReceiptLine))
    lot_id, move_id, bal_id, trace_id = next_id(Lot), next_id(Movement), next_id(StockBalance), next_id(TraceCode)
    orders, olines, receipts, rlines, lots, moves, traces = [], [], [], [], [], [], []
    balance: dict[int, tuple[int, int, dt.date]] = {}  # lot id -> (item id, quantity, expires)
    received_by_agreement: dict[int, int] = {}
    trace_serial = 0
    for mi, month in enumerate(months):
        last = mi == len(months) - 1
        ordered_on = month + dt.timedelta(days=1)
        if ordered_on > today:
            ordered_on = month
        received_on = min(ordered_on + dt.timedelta(days=3), today)
        for s in suppliers:
            mine = [it for it in items if supplier_of(it).pk == s.pk]
            if not mine:
                continue
            oid = order_id
            order_id += 1
            status = "partial" if last else "received"
            orders.append((oid, community.pk, center.pk, s.pk, f"CG{ordered_on:%Y%m%d}{s.pk % 1000:03d}", ordered_on,
                           status, "", pharmacist.pk if pharmacist else None))
            rid = receipt_id
            receipt_id += 1
            receipts.append((rid, center.pk, oid, s.pk, received_on, f"FP{rid:08d}",
                             pharmacist.pk if pharmacist else None, timezone.now()))
            at = dt.datetime.combine(received_on, dt.time(10), tz)
            for it in mine:
                qty = max(1, round(yearly[it.pk] / 12 * rng.uniform(0.8, 1.25)))
                got = qty if not last or rng.random() < 0.6 else qty // 2
                ag = agreements.get(it.pk)
                price = ag.price if ag else it.price
                olines.append((line_id, oid, it.pk, ag.pk if ag else None, qty, price, got))
                if got:
                    # shelf life 18–36 months; a few lots of the early months expire within 90 days of today
                    life = rng.randint(540, 1080)
                    if mi < 3 and rng.random() < 0.08:
                        life = (today - received_on).days + rng.randint(10, 85)
                    expires = received_on + dt.timedelta(days=life)
                    lots.append((lot_id, it.pk, f"{received_on:%y%m}{rng.randint(100, 999)}{it.pk % 100:02d}",
                                 expires, received_on - dt.timedelta(days=rng.randint(20, 120))))
                    rlines.append((rline_id, rid, line_id, it.pk, lot_id, got, price))
                    moves.append((move_id, center.pk, it.pk, lot_id, "receipt", got, got, at, f"CG{oid}",
                                   f"receipt:{rid}", None, pharmacist.pk if pharmacist else None))
                    balance[lot_id] = (it.pk, got, expires)
                    if it.kind in ("western", "patent"):
                        prefix = 8100000 + it.pk % 900000
                        for _b in range(got):
                            trace_serial += 1
                            traces.append((trace_id, f"{prefix:07d}{trace_serial:013d}", lot_id, center.pk,
                                           "in_stock", f"receipt:{rid}", timezone.now()))
                            trace_id += 1
                    if ag:
                        received_by_agreement[ag.pk] = received_by_agreement.get(ag.pk, 0) + got
                    lot_id += 1
                    move_id += 1
                    rline_id += 1
                line_id += 1
    bal_rows = [(bal_id + i, center.pk, item_id, lid, exp, qty, timezone.now())
                for i, (lid, (item_id, qty, exp)) in enumerate(balance.items())]
    limit_rows = []
    lim_id = next_id(StockLimit)
    for v in villages:
        for it in village_items:
            lo = rng.randint(2, 6)
            limit_rows.append((lim_id, v.pk, it.pk, lo, lo * 4))
            lim_id += 1
    with fast_load():
        load(PurchaseOrder, ["id", "community", "facility", "supplier", "number", "ordered_on", "status", "note",
                             "by"], orders)
        load(OrderLine, ["id", "order", "item", "agreement", "quantity", "price", "received"], olines)
        load(Receipt, ["id", "facility", "order", "supplier", "received_on", "invoice", "by", "created_at"],
             receipts)
        load(Lot, ["id", "item", "number", "expires_on", "manufactured_on"], lots)
        load(ReceiptLine, ["id", "receipt", "order_line", "item", "lot", "quantity", "price"], rlines)
        load(Movement, ["id", "facility", "item", "lot", "kind", "quantity", "balance_after", "at", "reason",
                        "source", "counterpart", "by"], moves)
        load(StockBalance, ["id", "facility", "item", "lot", "expires_on", "quantity", "updated_at"], bal_rows)
        load(TraceCode, ["id", "code", "lot", "facility", "status", "source", "updated_at"], traces)
        load(StockLimit, ["id", "facility", "item", "minimum", "maximum"], limit_rows)
        for ag_pk, n in received_by_agreement.items():
            Agreement.objects.filter(pk=ag_pk).update(received_quantity=n)
        reset_sequences(PurchaseOrder, OrderLine, Receipt, Lot, ReceiptLine, Movement, StockBalance, TraceCode,
                        StockLimit)
    analyze(Item, Lot, Movement, StockBalance, TraceCode, StockLimit)
    ctx.extra["pharmacy"] = {"center": center.pk, "tcm_center": tcm.pk if tcm else None, "items": len(items),
                             "village_items": len(village_items), "orders": len(orders), "lots": len(lots),
                             "trace_codes": len(traces), "limits": len(limit_rows),
                             "seconds": round(time.perf_counter() - t0, 1)}

