"""Page numbers and a page jump on the audit log and the inbox (the shared ``_pager.html``)."""

import re

from yigongti.core import audit, notify
from yigongti.core.paging import Page, page_links, pager_context


def test_page_links_show_the_ends_and_a_window_around_the_current_page():
    assert page_links(1, 1) == [1]
    assert page_links(5, 10) == [1, None, 3, 4, 5, 6, 7, None, 10]
    assert page_links(2, 4) == [1, 2, 3, 4]


def test_the_pager_without_a_count_offers_the_next_page_and_an_open_jump():
    ctx = pager_context(Page(items=[1], number=3, size=1, has_next=True, count=None), {"q": "li", "page": "3"})
    assert ctx["page_total"] == 4 and not ctx["page_total_known"]
    assert ctx["pager_query"] == "q=li" and ("page", "3") not in ctx["pager_params"]


def test_the_audit_log_has_page_numbers_and_a_jump_that_keeps_the_filter(cast, client, login):
    for n in range(120):
        audit.record(cast.county_doctor, "view", "resident", n)
    login(cast.auditor)
    html = client.get("/audit/?object_type=resident").content.decode()
    assert 'data-testid="page-numbers"' in html and 'href="?object_type=resident&amp;page=2"' in html
    jump = html[html.index('data-testid="page-jump"'):]
    jump = jump[:jump.index("</form>")]
    assert 'name="object_type" value="resident"' in jump and 'name="page"' in jump
    first = set(re.findall(r"<tr><td>(\d+)</td>", html))
    second = set(re.findall(r"<tr><td>(\d+)</td>", client.get("/audit/?object_type=resident&page=2").content.decode()))
    assert len(first) == 50 and len(second) == 50 and not first & second


def test_the_inbox_has_page_numbers_a_total_and_a_jump(cast, client, login):
    for n in range(70):
        notify.notify([cast.county_doctor], "referral", f"消息{n:02d}")
    login(cast.county_doctor)
    html = client.get("/inbox/").content.decode()
    assert "共 70 条" in html and 'href="?page=3"' in html and 'max="3"' in html
    last = client.get("/inbox/?page=3").content.decode()
    assert "消息00" in last and "消息69" not in last and 'aria-current="page">3<' in last


def test_a_capped_list_export_keeps_formulas_as_text_without_rescanning_the_sheet():
    import io
    from unittest import mock

    from openpyxl import load_workbook
    from openpyxl.worksheet.worksheet import Worksheet

    from yigongti.core.exports import EXPORT_LIMIT, list_xlsx_response

    rows = [[n, "=HYPERLINK(\"http://x\")", "李建国", None] for n in range(EXPORT_LIMIT)]
    # Row by row through ws.max_row (a scan of every cell) the export took 20 s; it must not ask for it per row.
    with mock.patch.object(Worksheet, "max_row", new_callable=mock.PropertyMock, return_value=1) as max_row:
        resp = list_xlsx_response("名单.xlsx", "名单", ["序号", "备注", "姓名", "空"], rows)
    assert max_row.call_count < 10
    ws = load_workbook(io.BytesIO(resp.content)).active
    assert ws.max_row == EXPORT_LIMIT + 1 and ws.cell(2, 2).data_type == "s"
    assert ws.cell(EXPORT_LIMIT + 1, 2).value == "=HYPERLINK(\"http://x\")"
    assert "filename*=UTF-8''%E5%90%8D%E5%8D%95.xlsx" in resp["Content-Disposition"]
