"""凡晋必下 as data and plain functions: the requirement (with its source), and what a doctor's verified days on
site mean for a promotion to a senior title.

The rule: 《关于深化卫生专业技术人员职称制度改革的指导意见》（人社部发〔2021〕51号，人力资源社会保障部、国家卫生健康委、
国家中医药局）: 执业医师晋升为副高级技术职称的，应当有累计一年以上在县级以下或者对口支援的医疗卫生机构提供医疗卫生
服务的经历. "One year" is counted here in days on site: a working year, 250 days (365 − 104 weekend days − 11
statutory holidays), counted only when the host confirmed the day (docs/workforce.md)."""

from __future__ import annotations

from dataclasses import dataclass

from yigongti.orgs.models import Title


@dataclass(frozen=True)
class Requirement:
    days: int
    label: str
    source: str


REQUIREMENT = Requirement(
    days=250,
    label="累计不少于1年（按250个在岗工作日计，经派驻机构确认）",
    source="人社部发〔2021〕51号《关于深化卫生专业技术人员职称制度改革的指导意见》",
)

# the title a doctor would be promoted to next, for the titles that need the grassroots year first
NEXT_TITLE = {Title.INTERMEDIATE: Title.ASSOCIATE_SENIOR, Title.ASSOCIATE_SENIOR: Title.SENIOR}
MID_SENIOR = (Title.INTERMEDIATE, Title.ASSOCIATE_SENIOR, Title.SENIOR)


@dataclass(frozen=True)
class Standing:
    verified: int
    planned: int  # booked days not yet confirmed (future or unconfirmed)
    required: int

    @property
    def lacking(self) -> int:
        return max(self.required - self.verified, 0)

    @property
    def met(self) -> bool:
        return self.lacking == 0

    @property
    def reachable(self) -> bool:
        """Whether the days booked but not yet confirmed would close the gap."""
        return self.verified + self.planned >= self.required

    @property
    def percent(self) -> int:
        return min(100, round(100 * self.verified / self.required)) if self.required else 100


def standing(verified: int, planned: int, requirement: Requirement = REQUIREMENT) -> Standing:
    return Standing(verified, planned, requirement.days)
