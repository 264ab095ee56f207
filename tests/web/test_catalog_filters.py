"""Finding a procedure by the agency that handles it: the catalog's agency filter, alone or with a keyword and a
field, and the procedure's page filing with the agency chosen."""
from __future__ import annotations

import re

from sqlalchemy import select

from engine.models import Agency
from tests.web.test_journey import register


def test_procedures_are_found_by_agency(people, engine) -> None:  # noqa: ANN001
    with engine.session() as s:
        province = s.scalar(select(Agency.id).where(Agency.level == "province"))
        commune = s.scalar(select(Agency.id).where(Agency.level == "commune"))
        other = Agency(code="000.32.27.H14", name_vi="UBND xã Mẫu Đông", name_en="Mau Dong Commune", level="commune")
        s.add(other)
        s.commit()
        other_id = other.id
    visitor = people()
    page = visitor.get("/")
    assert page.has('name="co-quan"', "UBND tỉnh Mẫu", "UBND xã Mẫu Đông")
    page = visitor.get(f"/?co-quan={province}")
    assert page.has("Thông báo hoạt động khuyến mại", "Cấp bản sao văn bằng") and "Đăng ký khai sinh" not in page.html
    assert page.has(f'<option value="{province}" selected>')
    page = visitor.get(f"/?co-quan={commune}&q=khai+sinh")
    assert page.has("thủ tục phù hợp", "Đăng ký khai sinh") and "Cấp bản sao văn bằng" not in page.html
    page = visitor.get(f"/?co-quan={province}&q=khai+sinh")
    assert page.has("0 thủ tục phù hợp", "bỏ chọn lĩnh vực, cơ quan")
    assert visitor.get("/?co-quan=999999999").has("0 thủ tục phù hợp")
    assert visitor.get("/?co-quan=abc").has("Tất cả thủ tục")  # not a number: no filter
    # the procedure's page, reached from the filtered catalog, files with that agency
    visitor = register(people)
    page = visitor.get(f"/?co-quan={other_id}")
    link = re.search(r'href="(/thu-tuc/birth_registration\?co-quan=\d+)"', page.html).group(1)
    page = visitor.get(link)
    assert re.search(rf'value="{other_id}" checked', page.html) and not re.search(rf'value="{commune}" checked', page.html)
