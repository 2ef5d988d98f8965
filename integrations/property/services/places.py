"""Whether a repair is in a home or in the common parts of the community."""

from __future__ import annotations

HOME_LOCATIONS = frozenset(
    {"厨房", "卫生间", "客厅", "卧室", "阳台", "房间", "书房", "餐厅", "家里", "屋里"}
)
PUBLIC_LOCATIONS = frozenset(
    {
        "楼道", "走廊", "楼梯间", "电梯", "车库", "停车场", "大门", "北门", "南门",
        "大堂", "公共区域", "楼顶", "天台", "花园", "绿地", "小区",
    }
)  # fmt: skip
# Things that only exist in the common parts (a lift, the gate barrier, a street lamp).
PUBLIC_ITEMS = frozenset({"电梯", "门禁", "道闸", "路灯", "单元门", "信箱"})


def is_public_area(item: str | None, location: str | None) -> bool | None:
    """True for the common parts, False for a home, None while it cannot be told."""
    if location in PUBLIC_LOCATIONS:
        return True
    if location in HOME_LOCATIONS:
        return False
    if item in PUBLIC_ITEMS:
        return True
    return None
