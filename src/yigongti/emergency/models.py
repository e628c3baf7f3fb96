"""The county 120 command center (县域120急救网络指挥系统): the road network, stations and vehicles, calls and
missions, the timestamps of every call as events, the pre-hospital record and the pre-arrival alert (预警).

A call (``Call``) is taken by a dispatcher; the platform ranks the available vehicles by travel time over the
county road network (``RoadNode``/``RoadEdge``, generated for the demo or imported from an OpenStreetMap file);
the dispatcher sends one (a ``Mission``); the crew steps the vehicle through its statuses on a phone page; each
step is a ``CallEvent`` recorded once (idempotency key). The crew's record (``PrehospitalRecord``) carries vital
signs and a 12-lead ECG sent to the ECG center; a ``PreArrivalAlert`` tells the receiving hospital's team what is
coming and when, and starts the pathway (``yigongti.pathways``).

Vehicle positions come through a GPS adapter (``gps.py``), calls through a telephony adapter
(``telephony.py``); both have a simulator for the demo. Station planning runs are kept as ``StationPlan``.

Workflow lives in ``workflow.py`` (the vehicle's statuses, the call's states); services are the only writers."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from yigongti.orgs.models import Facility, MedicalCommunity, Region, User
from yigongti.residents.models import Resident

# ---------------------------------------------------------------------------------------------------- roads


class RoadClass(models.TextChoices):
    EXPRESSWAY = "expressway", _("高速公路")
    NATIONAL = "national", _("国道")
    PROVINCIAL = "provincial", _("省道")
    COUNTY = "county", _("县道")
    TOWNSHIP = "township", _("乡道")
    VILLAGE = "village", _("村道")
    STREET = "street", _("城区道路")


class RoadNetwork(models.Model):
    """One county's road graph; the newest ``active`` one routes. ``version`` changes whenever it is rebuilt, so
    that the in-memory graph of each process knows to reload."""

    name = models.CharField(_("名称"), max_length=80)
    source = models.CharField(_("来源"), max_length=20, default="generated")  # generated | osm
    source_file = models.CharField(_("来源文件"), max_length=255, blank=True)
    seed = models.IntegerField(_("随机种子"), null=True, blank=True)
    active = models.BooleanField(_("在用"), default=True)
    version = models.CharField(_("版本"), max_length=40)
    bbox = models.JSONField(_("范围"), default=list)  # [min_lon, min_lat, max_lon, max_lat]
    created_at = models.DateTimeField(_("生成时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("路网")
        verbose_name_plural = _("路网")

    def __str__(self) -> str:
        return self.name


class RoadNode(models.Model):
    network = models.ForeignKey(RoadNetwork, models.CASCADE, related_name="nodes", verbose_name=_("路网"))
    ext_id = models.BigIntegerField(_("外部编号"), default=0)  # the OSM node id, or the generator's index
    lon = models.FloatField(_("经度"))
    lat = models.FloatField(_("纬度"))

    class Meta:
        verbose_name = _("路网节点")
        verbose_name_plural = _("路网节点")
        indexes = [models.Index(fields=["network", "lon", "lat"], name="roadnode_position")]

    def __str__(self) -> str:
        return f"{self.lon:.5f},{self.lat:.5f}"


class RoadEdge(models.Model):
    network = models.ForeignKey(RoadNetwork, models.CASCADE, related_name="edges", verbose_name=_("路网"))
    source = models.ForeignKey(RoadNode, models.CASCADE, related_name="+", verbose_name=_("起点"))
    target = models.ForeignKey(RoadNode, models.CASCADE, related_name="+", verbose_name=_("终点"))
    road_class = models.CharField(_("道路等级"), max_length=12, choices=RoadClass.choices)
    name = models.CharField(_("道路名称"), max_length=80, blank=True)
    length_m = models.FloatField(_("长度（米）"))
    speed_kmh = models.FloatField(_("车速（公里/小时）"))
    oneway = models.BooleanField(_("单行"), default=False)

    class Meta:
        verbose_name = _("路段")
        verbose_name_plural = _("路段")

    def __str__(self) -> str:
        return f"{self.source_id}→{self.target_id}"


class Place(models.Model):
    """Where a village, a township center or the county seat is on the map, and its nearest road node."""

    network = models.ForeignKey(RoadNetwork, models.CASCADE, related_name="places", verbose_name=_("路网"))
    region = models.ForeignKey(Region, models.CASCADE, related_name="places", verbose_name=_("区划"))
    lon = models.FloatField(_("经度"))
    lat = models.FloatField(_("纬度"))
    node = models.ForeignKey(RoadNode, models.SET_NULL, null=True, related_name="+", verbose_name=_("路网节点"))
    population = models.PositiveIntegerField(_("人口"), default=0)
    elevation_m = models.FloatField(_("海拔（米）"), default=0)

    class Meta:
        verbose_name = _("地点")
        verbose_name_plural = _("地点")
        constraints = [models.UniqueConstraint(fields=["network", "region"], name="place_unique")]

    def __str__(self) -> str:
        return str(self.region)


class Landmark(models.Model):
    """A named place a caller may give instead of an address (a school, a bridge, a market)."""

    network = models.ForeignKey(RoadNetwork, models.CASCADE, related_name="landmarks", verbose_name=_("路网"))
    name = models.CharField(_("名称"), max_length=80, db_index=True)
    region = models.ForeignKey(Region, models.CASCADE, related_name="landmarks", verbose_name=_("所在区划"))
    lon = models.FloatField(_("经度"))
    lat = models.FloatField(_("纬度"))
    node = models.ForeignKey(RoadNode, models.SET_NULL, null=True, related_name="+", verbose_name=_("路网节点"))

    class Meta:
        verbose_name = _("地标")
        verbose_name_plural = _("地标")

    def __str__(self) -> str:
        return self.name


# ------------------------------------------------------------------------------------------ stations, fleet


class StationKind(models.TextChoices):
    COMMAND = "command", _("指挥中心")
    SUB_CENTER = "sub_center", _("急救分中心")
    STATION = "station", _("急救站")


class Station(models.Model):
    """An ambulance station (the county 分中心, a township 急救站), at a facility of the community."""

    facility = models.OneToOneField(Facility, models.PROTECT, related_name="ems_station", verbose_name=_("机构"))
    community = models.ForeignKey(MedicalCommunity, models.PROTECT, null=True, blank=True, related_name="+",
                                  verbose_name=_("医共体"))
    kind = models.CharField(_("类别"), max_length=12, choices=StationKind.choices, default=StationKind.STATION)
    name = models.CharField(_("名称"), max_length=60)
    lon = models.FloatField(_("经度"))
    lat = models.FloatField(_("纬度"))
    node = models.ForeignKey(RoadNode, models.SET_NULL, null=True, related_name="+", verbose_name=_("路网节点"))
    active = models.BooleanField(_("在用"), default=True)

    class Meta:
        verbose_name = _("急救站点")
        verbose_name_plural = _("急救站点")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class VehicleKind(models.TextChoices):
    BASIC = "basic", _("普通型救护车")
    MONITORING = "monitoring", _("监护型救护车")
    NEGATIVE_PRESSURE = "negative_pressure", _("负压救护车")
    NEONATAL = "neonatal", _("新生儿转运救护车")


class VehicleStatus(models.TextChoices):
    AVAILABLE = "available", _("待命")
    DISPATCHED = "dispatched", _("出车")
    ON_SCENE = "on_scene", _("到达现场")
    TRANSPORTING = "transporting", _("转运")
    AT_HOSPITAL = "at_hospital", _("到院")
    RETURNING = "returning", _("返站")
    MAINTENANCE = "maintenance", _("维修")


class Vehicle(models.Model):
    station = models.ForeignKey(Station, models.PROTECT, related_name="vehicles", verbose_name=_("所属站点"))
    call_sign = models.CharField(_("车辆呼号"), max_length=20, unique=True)
    plate = models.CharField(_("车牌号"), max_length=12, unique=True)
    kind = models.CharField(_("车型"), max_length=20, choices=VehicleKind.choices, default=VehicleKind.BASIC)
    equipment = models.JSONField(_("车载设备"), default=list)  # ["ecg12", "defibrillator", "ventilator", …]
    status = models.CharField(_("状态"), max_length=14, choices=VehicleStatus.choices,
                              default=VehicleStatus.AVAILABLE, db_index=True)
    status_at = models.DateTimeField(_("状态时间"), null=True, blank=True)
    lon = models.FloatField(_("经度"), null=True, blank=True)
    lat = models.FloatField(_("纬度"), null=True, blank=True)
    node = models.ForeignKey(RoadNode, models.SET_NULL, null=True, blank=True, related_name="+",
                             verbose_name=_("所在路网节点"))
    position_at = models.DateTimeField(_("定位时间"), null=True, blank=True)
    gps_device_id = models.CharField(_("定位终端编号"), max_length=40, blank=True)
    active = models.BooleanField(_("在用"), default=True)

    class Meta:
        verbose_name = _("救护车")
        verbose_name_plural = _("救护车")
        ordering = ["call_sign"]

    def __str__(self) -> str:
        return f"{self.call_sign} {self.plate}"

    @property
    def negative_pressure(self) -> bool:
        return self.kind == VehicleKind.NEGATIVE_PRESSURE


class CrewRole(models.TextChoices):
    DOCTOR = "doctor", _("随车医生")
    NURSE = "nurse", _("随车护士")
    DRIVER = "driver", _("驾驶员")
    STRETCHER = "stretcher", _("担架员")


class CrewMember(models.Model):
    """Who rides a vehicle (on the current shift); crew members with an account use the crew page."""

    vehicle = models.ForeignKey(Vehicle, models.CASCADE, related_name="crew", verbose_name=_("车辆"))
    user = models.ForeignKey(User, models.CASCADE, null=True, blank=True, related_name="crew_seats",
                             verbose_name=_("账号"))
    name = models.CharField(_("姓名"), max_length=40)
    role = models.CharField(_("岗位"), max_length=12, choices=CrewRole.choices)
    on_shift = models.BooleanField(_("在班"), default=True)

    class Meta:
        verbose_name = _("车组人员")
        verbose_name_plural = _("车组人员")

    def __str__(self) -> str:
        return self.name


class VehiclePosition(models.Model):
    """A GPS fix as the vehicle's terminal reported it (the trail on the board)."""

    vehicle = models.ForeignKey(Vehicle, models.CASCADE, related_name="positions", verbose_name=_("车辆"))
    at = models.DateTimeField(_("时间"))
    lon = models.FloatField(_("经度"))
    lat = models.FloatField(_("纬度"))
    speed_kmh = models.FloatField(_("速度"), null=True, blank=True)

    class Meta:
        verbose_name = _("车辆定位")
        verbose_name_plural = _("车辆定位")
        indexes = [models.Index(fields=["vehicle", "at"], name="vehicle_position_time")]

    def __str__(self) -> str:
        return f"{self.vehicle_id}@{self.at:%H:%M:%S}"


# ----------------------------------------------------------------------------------------- calls, missions


class Priority(models.IntegerChoices):
    """The national call-grading practice (院前急救呼救分级)."""

    CRITICAL = 1, _("I级 危急")
    SEVERE = 2, _("II级 急重")
    URGENT = 3, _("III级 急症")
    MINOR = 4, _("IV级 轻症")


class CallStatus(models.TextChoices):
    OPEN = "open", _("受理中")
    DISPATCHED = "dispatched", _("已派车")
    CLOSED = "closed", _("已结束")
    MERGED = "merged", _("已合并")
    CANCELLED = "cancelled", _("已取消")


class CallKind(models.TextChoices):
    EMERGENCY = "emergency", _("现场急救")
    TRANSFER = "transfer", _("院间转运")
    GREEN_CHANNEL = "green_channel", _("一键呼叫（绿色通道）")


class Call(models.Model):
    """A 120 call (呼救受理): who called, where, what, how urgent. One incident may gather duplicate calls
    (``merged_into``)."""

    call_no = models.CharField(_("受理号"), max_length=20, unique=True)
    kind = models.CharField(_("类别"), max_length=16, choices=CallKind.choices, default=CallKind.EMERGENCY)
    caller_phone = models.CharField(_("主叫号码"), max_length=20, blank=True)
    caller_name = models.CharField(_("呼救人"), max_length=40, blank=True)
    resident = models.ForeignKey(Resident, models.SET_NULL, null=True, blank=True, related_name="ems_calls",
                                 verbose_name=_("患者"))
    patient_description = models.CharField(_("患者描述"), max_length=80, blank=True)  # "男，约60岁"
    area_code = models.CharField(_("事发区划代码"), max_length=12, db_index=True, blank=True)
    region = models.ForeignKey(Region, models.SET_NULL, null=True, blank=True, related_name="+",
                               verbose_name=_("事发区划"))
    address = models.CharField(_("地址/地标"), max_length=120, blank=True)
    landmark = models.ForeignKey(Landmark, models.SET_NULL, null=True, blank=True, related_name="+",
                                 verbose_name=_("地标"))
    lon = models.FloatField(_("经度"), null=True, blank=True)
    lat = models.FloatField(_("纬度"), null=True, blank=True)
    node = models.ForeignKey(RoadNode, models.SET_NULL, null=True, blank=True, related_name="+",
                             verbose_name=_("路网节点"))
    chief_complaint = models.CharField(_("主诉"), max_length=200, blank=True)
    complaint_code = models.CharField(_("主诉分类"), max_length=30, blank=True)  # chest_pain, stroke, trauma …
    priority = models.PositiveSmallIntegerField(_("分级"), choices=Priority.choices, default=Priority.URGENT)
    special_needs = models.JSONField(_("特殊需求"), default=list)  # ["negative_pressure", "neonatal", "monitoring"]
    status = models.CharField(_("状态"), max_length=12, choices=CallStatus.choices, default=CallStatus.OPEN,
                              db_index=True)
    merged_into = models.ForeignKey("self", models.SET_NULL, null=True, blank=True, related_name="duplicates",
                                    verbose_name=_("合并到"))
    from_facility = models.ForeignKey(Facility, models.SET_NULL, null=True, blank=True, related_name="+",
                                      verbose_name=_("转出机构"))  # transfers and the green channel
    destination = models.ForeignKey(Facility, models.SET_NULL, null=True, blank=True, related_name="+",
                                    verbose_name=_("转入机构"))  # where a transfer goes; its missions start there
    referral = models.ForeignKey("referrals.Referral", models.SET_NULL, null=True, blank=True, related_name="+",
                                 verbose_name=_("转诊单"))
    taken_by = models.ForeignKey(User, models.SET_NULL, null=True, blank=True, related_name="+",
                                 verbose_name=_("受理调度员"))
    rang_at = models.DateTimeField(_("振铃时间"))
    closed_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    close_reason = models.CharField(_("结束原因"), max_length=120, blank=True)
    idempotency_key = models.CharField(max_length=64, blank=True)

    class Meta:
        verbose_name = _("呼救受理")
        verbose_name_plural = _("呼救受理")
        indexes = [
            models.Index(fields=["status", "priority", "rang_at"], name="call_board"),
            models.Index(fields=["rang_at"], name="call_time"),
            models.Index(fields=["caller_phone"], name="call_phone"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["taken_by", "idempotency_key"], condition=~models.Q(idempotency_key=""),
                                    name="call_idempotency_unique"),
        ]

    def __str__(self) -> str:
        return self.call_no


class MissionStatus(models.TextChoices):
    ACTIVE = "active", _("执行中")
    COMPLETED = "completed", _("已完成")
    ABORTED = "aborted", _("中止")


class Mission(models.Model):
    """A vehicle sent to a call (出车任务): what the platform recommended and what the dispatcher chose."""

    call = models.ForeignKey(Call, models.CASCADE, related_name="missions", verbose_name=_("呼救"))
    vehicle = models.ForeignKey(Vehicle, models.PROTECT, related_name="missions", verbose_name=_("车辆"))
    status = models.CharField(_("状态"), max_length=10, choices=MissionStatus.choices, default=MissionStatus.ACTIVE)
    dispatched_by = models.ForeignKey(User, models.SET_NULL, null=True, blank=True, related_name="+",
                                      verbose_name=_("调度员"))
    dispatched_at = models.DateTimeField(_("派车时间"))
    eta_s = models.PositiveIntegerField(_("预计到达（秒）"), null=True, blank=True)
    recommended_rank = models.PositiveSmallIntegerField(_("推荐排名"), null=True, blank=True)  # 1 = the first
    straight_line_rank = models.PositiveSmallIntegerField(_("直线距离排名"), null=True, blank=True)
    destination = models.ForeignKey(Facility, models.SET_NULL, null=True, blank=True, related_name="+",
                                    verbose_name=_("送往医院"))
    destination_reason = models.CharField(_("选择理由"), max_length=120, blank=True)
    abort_reason = models.CharField(_("中止原因"), max_length=120, blank=True)

    class Meta:
        verbose_name = _("出车任务")
        verbose_name_plural = _("出车任务")
        constraints = [
            # a vehicle runs one mission at a time (the row lock decides who wins; this keeps it true)
            models.UniqueConstraint(fields=["vehicle"], condition=models.Q(status="active"),
                                    name="mission_one_active_per_vehicle"),
        ]

    def __str__(self) -> str:
        return f"{self.call_id}/{self.vehicle_id}"


class EventKind(models.TextChoices):
    """The time points of a call, each recorded once (per mission where it is the vehicle's)."""

    RING = "ring", _("振铃")
    ANSWER = "answer", _("接听")
    ADDRESS_CONFIRMED = "address_confirmed", _("地址确认")
    PRIORITY = "priority", _("分级确定")
    DISPATCH_ORDER = "dispatch_order", _("派车指令")
    CREW_ACK = "crew_ack", _("车组确认")
    WHEELS_ROLLING = "wheels_rolling", _("出车")
    ON_SCENE = "on_scene", _("到达现场")
    FMC = "fmc", _("首次医疗接触")
    LEAVE_SCENE = "leave_scene", _("离开现场")
    ARRIVE_HOSPITAL = "arrive_hospital", _("到达医院")
    HANDOVER = "handover", _("交接完成")
    AVAILABLE = "available", _("恢复待命")


class CallEvent(models.Model):
    call = models.ForeignKey(Call, models.CASCADE, related_name="events", verbose_name=_("呼救"))
    mission = models.ForeignKey(Mission, models.CASCADE, null=True, blank=True, related_name="events",
                                verbose_name=_("出车任务"))
    kind = models.CharField(_("时间节点"), max_length=20, choices=EventKind.choices)
    at = models.DateTimeField(_("时间"))
    recorded_at = models.DateTimeField(_("记录时间"), auto_now_add=True)
    by = models.ForeignKey(User, models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("记录人"))
    source = models.CharField(_("来源"), max_length=12, default="manual")  # manual | telephony | gps | system
    idempotency_key = models.CharField(max_length=64, blank=True)

    class Meta:
        verbose_name = _("时间节点")
        verbose_name_plural = _("时间节点")
        indexes = [models.Index(fields=["call", "at"], name="callevent_call_time"),
                   models.Index(fields=["kind", "at"], name="callevent_kind_time")]
        constraints = [
            models.UniqueConstraint(fields=["call", "kind"], condition=models.Q(mission__isnull=True),
                                    name="callevent_once_per_call"),
            models.UniqueConstraint(fields=["mission", "kind"], condition=models.Q(mission__isnull=False),
                                    name="callevent_once_per_mission"),
        ]

    def __str__(self) -> str:
        return f"{self.kind}@{self.at:%H:%M:%S}"


# ------------------------------------------------------------------------------ pre-hospital record, alert


class PrehospitalRecord(models.Model):
    """The crew's record of the patient (院前急救病历)."""

    mission = models.OneToOneField(Mission, models.CASCADE, related_name="record", verbose_name=_("出车任务"))
    resident = models.ForeignKey(Resident, models.SET_NULL, null=True, blank=True, related_name="+",
                                 verbose_name=_("患者"))
    impression = models.CharField(_("初步诊断"), max_length=200, blank=True)
    impression_code = models.CharField(_("初步诊断分类"), max_length=30, blank=True)  # stemi, stroke, trauma …
    icd10 = models.CharField(_("ICD-10"), max_length=10, blank=True)
    treatment = models.TextField(_("处置"), blank=True)
    ecg_order = models.ForeignKey("telemedicine.Order", models.SET_NULL, null=True, blank=True, related_name="+",
                                  verbose_name=_("心电图申请"))
    recorded_by = models.ForeignKey(User, models.SET_NULL, null=True, blank=True, related_name="+",
                                    verbose_name=_("记录人"))
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("院前急救病历")
        verbose_name_plural = _("院前急救病历")

    def __str__(self) -> str:
        return f"record {self.mission_id}"


class VitalSigns(models.Model):
    record = models.ForeignKey(PrehospitalRecord, models.CASCADE, related_name="vitals", verbose_name=_("病历"))
    at = models.DateTimeField(_("时间"))
    sbp = models.PositiveSmallIntegerField(_("收缩压"), null=True, blank=True)
    dbp = models.PositiveSmallIntegerField(_("舒张压"), null=True, blank=True)
    heart_rate = models.PositiveSmallIntegerField(_("心率"), null=True, blank=True)
    resp_rate = models.PositiveSmallIntegerField(_("呼吸"), null=True, blank=True)
    spo2 = models.PositiveSmallIntegerField(_("血氧饱和度"), null=True, blank=True)
    temperature = models.DecimalField(_("体温"), max_digits=3, decimal_places=1, null=True, blank=True)
    glucose = models.DecimalField(_("血糖"), max_digits=4, decimal_places=1, null=True, blank=True)
    gcs = models.PositiveSmallIntegerField(_("GCS评分"), null=True, blank=True)
    by = models.ForeignKey(User, models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("记录人"))
    idempotency_key = models.CharField(max_length=64, blank=True)

    class Meta:
        verbose_name = _("生命体征")
        verbose_name_plural = _("生命体征")

    def __str__(self) -> str:
        return f"vitals {self.at:%H:%M}"


class PreArrivalAlert(models.Model):
    """预警: the receiving hospital's team told what is coming (impression, ECG, ETA) before it arrives."""

    mission = models.ForeignKey(Mission, models.CASCADE, null=True, blank=True, related_name="alerts",
                                verbose_name=_("出车任务"))  # none yet for a one-button call before dispatch
    call = models.ForeignKey(Call, models.CASCADE, null=True, blank=True, related_name="alerts",
                             verbose_name=_("呼救"))
    facility = models.ForeignKey(Facility, models.PROTECT, related_name="pre_arrival_alerts",
                                 verbose_name=_("接收医院"))
    pathway = models.CharField(_("通道"), max_length=12, blank=True)  # pathways.PathwayKind
    impression = models.CharField(_("初步诊断"), max_length=200, blank=True)
    eta_at = models.DateTimeField(_("预计到达"), null=True, blank=True)
    ecg_order = models.ForeignKey("telemedicine.Order", models.SET_NULL, null=True, blank=True, related_name="+",
                                  verbose_name=_("心电图"))
    sent_by = models.ForeignKey(User, models.SET_NULL, null=True, blank=True, related_name="+",
                                verbose_name=_("发送人"))
    sent_at = models.DateTimeField(_("发送时间"))
    acknowledged_by = models.ForeignKey(User, models.SET_NULL, null=True, blank=True, related_name="+",
                                        verbose_name=_("确认人"))
    acknowledged_at = models.DateTimeField(_("确认时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("预警")
        verbose_name_plural = _("预警")
        indexes = [models.Index(fields=["facility", "sent_at"], name="alert_facility_time")]

    def __str__(self) -> str:
        return f"alert {self.mission_id} → {self.facility_id}"


# -------------------------------------------------------------------------------------------- planning


class StationPlan(models.Model):
    """A station-planning run (站点规划): parameters, today's coverage, the proposed sites, the simulated year."""

    name = models.CharField(_("名称"), max_length=80)
    network = models.ForeignKey(RoadNetwork, models.CASCADE, related_name="plans", verbose_name=_("路网"))
    params = models.JSONField(_("参数"), default=dict)
    result = models.JSONField(_("结果"), default=dict)
    status = models.CharField(_("状态"), max_length=10, default="done")  # queued | running | done | failed
    created_by = models.ForeignKey(User, models.SET_NULL, null=True, blank=True, related_name="+",
                                   verbose_name=_("创建人"))
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    seconds = models.FloatField(_("用时（秒）"), null=True, blank=True)

    class Meta:
        verbose_name = _("站点规划")
        verbose_name_plural = _("站点规划")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name


