"""The PDF 月通报: embedded Chinese font, letterhead, page numbers, data coverage, integer counts, wrapped names."""

from __future__ import annotations

import io
import re
import shutil
import subprocess

import pytest

from tests.indicators.world import build_world
from yigongti.indicators.periods import parse_period
from yigongti.indicators.queries import resolve_area
from yigongti.indicators.reports import build_pdf
from yigongti.indicators.services import refresh_facts
from yigongti.orgs.models import Facility

pypdf = pytest.importorskip("pypdf")


@pytest.fixture
def world(cast):
    build_world(cast)
    refresh_facts()
    return cast


def _fonts(reader) -> list[dict]:
    out = []
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            for desc in font.get("/DescendantFonts", [font]):
                desc = desc.get_object()
                fd = desc.get("/FontDescriptor")
                out.append({"name": str(desc.get("/BaseFont")), "embedded": fd is not None and any(
                    k in fd.get_object() for k in ("/FontFile", "/FontFile2", "/FontFile3"))})
    return out


@pytest.fixture
def pdf(world) -> bytes:
    # a long name that has to wrap inside its ranking cell
    Facility.objects.filter(pk=world.township_center.pk).update(
        name="塔峰镇中心卫生院（塔峰镇社区卫生服务中心、县医共体塔峰分院、塔峰镇妇幼保健计划生育服务站）")
    refresh_facts()
    area = resolve_area(world.bureau, "county:431127000000")
    return build_pdf(area, parse_period("2026"))


def test_report_embeds_its_chinese_font(pdf):
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    fonts = _fonts(reader)
    # reportlab lists Helvetica (one of the 14 fonts every reader has) in every document; any other font —
    # the Chinese one — is embedded, not left to the reader to substitute (STSong-Light was only named)
    chinese = [f for f in fonts if f["name"] != "/Helvetica"]
    assert chinese and all(f["embedded"] for f in chinese), fonts
    assert any("WenQuanYi" in f["name"] for f in chinese) and not any("STSong" in f["name"] for f in fonts)
    assert b"/FontFile2" in pdf


def test_report_has_letterhead_page_numbers_and_the_periods_coverage(pdf, world):
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    pages = [p.extract_text() for p in reader.pages]
    total = len(pages)
    assert total >= 3
    for i, text in enumerate(pages, start=1):
        flat = re.sub(r"\s+", "", text)
        assert f"第{i}页共{total}页" in flat
        assert world.community.name in flat and "紧密型县域医共体监测指标月通报" in flat
        # 2026 has visits and discharges only in March–April, settlements only in March: the report says so
        assert "统计期：2026年" in flat and "有数据：2026年3–4月（医保结算：2026年3月）" in flat


def test_report_prints_counts_as_integers_and_wraps_long_names(pdf):
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    text = "\n".join(p.extract_text() for p in reader.pages)
    flat = re.sub(r"\s+", "", text)
    # 门急诊人次 in 2026: E1–E5 (five visits) — a count, so no decimals
    assert re.search(r"VISITS\S*门急诊人次5人次", flat), flat[:2000]
    assert "门急诊人次5.00" not in flat
    # the long name is all there (wrapped over lines in its cell, not cut off or drawn over its neighbours)
    assert "塔峰镇妇幼保健计划生育服务站" in flat
    lines_with_part = [ln for ln in text.splitlines() if "塔峰镇中心卫生院" in ln]
    assert lines_with_part and all("塔峰镇妇幼保健计划生育服务站" not in ln for ln in lines_with_part)


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="poppler-utils (pdftoppm) not installed")
def test_first_page_renders(pdf, tmp_path):
    src = tmp_path / "report.pdf"
    src.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-f", "1", "-l", "1", "-r", "60", "-png", str(src), str(tmp_path / "p")],
                   check=True, capture_output=True, timeout=60)
    png = next(tmp_path.glob("p*.png"))
    assert png.read_bytes().startswith(b"\x89PNG") and png.stat().st_size > 5000
