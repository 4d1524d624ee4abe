"""What the sandbox's Vultr sells: a fixed subset of the real plans, regions and OS images.

The entries carry the real identifiers and the real field names, so playbooks
written for Vultr (`plan: vc2-1c-1gb`, `region: mel`, `os: Ubuntu 24.04 LTS x64`)
work unchanged.
"""

from __future__ import annotations

from typing import Any

Resource = dict[str, Any]

REGIONS: list[Resource] = [
    {"id": code, "city": city, "country": country, "continent": continent, "options": options}
    for code, city, country, continent, options in [
        ("ams", "Amsterdam", "NL", "Europe", ["ddos_protection"]),
        ("atl", "Atlanta", "US", "North America", []),
        ("cdg", "Paris", "FR", "Europe", ["ddos_protection"]),
        ("ewr", "New Jersey", "US", "North America", ["ddos_protection", "block_storage"]),
        ("fra", "Frankfurt", "DE", "Europe", ["ddos_protection"]),
        ("lax", "Los Angeles", "US", "North America", ["ddos_protection"]),
        ("lhr", "London", "GB", "Europe", ["ddos_protection"]),
        ("mel", "Melbourne", "AU", "Australia", []),
        ("nrt", "Tokyo", "JP", "Asia", []),
        ("sgp", "Singapore", "SG", "Asia", ["ddos_protection"]),
        ("syd", "Sydney", "AU", "Australia", []),
        ("yto", "Toronto", "CA", "North America", []),
    ]
]

_ALL_REGIONS = [region["id"] for region in REGIONS]

PLANS: list[Resource] = [
    {
        "id": plan_id,
        "vcpu_count": vcpus,
        "ram": ram,
        "disk": disk,
        "disk_count": 1,
        "bandwidth": bandwidth,
        "monthly_cost": cost,
        "type": plan_id.split("-")[0],
        "locations": _ALL_REGIONS,
    }
    for plan_id, vcpus, ram, disk, bandwidth, cost in [
        ("vc2-1c-0.5gb", 1, 512, 10, 512, 2.5),
        ("vc2-1c-1gb", 1, 1024, 25, 1024, 5),
        ("vc2-1c-2gb", 1, 2048, 55, 2048, 10),
        ("vc2-2c-4gb", 2, 4096, 80, 3072, 20),
        ("vc2-4c-8gb", 4, 8192, 160, 4096, 40),
        ("vhf-1c-1gb", 1, 1024, 32, 1024, 6),
        ("vhf-2c-4gb", 2, 4096, 128, 3072, 24),
    ]
]

OPERATING_SYSTEMS: list[Resource] = [
    {"id": os_id, "name": name, "arch": "x64", "family": family}
    for os_id, name, family in [
        (2284, "Ubuntu 24.04 LTS x64", "ubuntu"),
        (1743, "Ubuntu 22.04 LTS x64", "ubuntu"),
        (2136, "Debian 12 x64 (bookworm)", "debian"),
        (2076, "Alpine Linux x64", "alpinelinux"),
        (1869, "Rocky Linux 9 x64", "rockylinux"),
        (2187, "Fedora 40 x64", "fedora"),
    ]
]


def find_plan(plan_id: str) -> Resource | None:
    return next((plan for plan in PLANS if plan["id"] == plan_id), None)


def find_region(region_id: str) -> Resource | None:
    return next((region for region in REGIONS if region["id"] == region_id), None)


def find_os(os_id: int) -> Resource | None:
    return next((image for image in OPERATING_SYSTEMS if image["id"] == os_id), None)
