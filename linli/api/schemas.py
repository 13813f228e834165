"""What the API reads and writes. Personal numbers leave only masked; the one way to a full
value is the audited reveal operation."""

import datetime as dt
from typing import Any, Literal

from ninja import Field, Schema

from linli.areas.models import Area
from linli.register.models import (
    Building,
    Dwelling,
    DwellingUse,
    Estate,
    Household,
    Person,
    Relation,
    Residency,
)


class ErrorOut(Schema):
    """Every error answer: a message, and for invalid input the messages per field."""

    detail: str = Field(description="What went wrong, in the caller's language.")
    errors: dict[str, list[str]] = Field(
        default_factory=dict, description="Messages per input field (validation errors only)."
    )


# --- jurisdiction -------------------------------------------------------------------------


class AreaOut(Schema):
    """A node of the jurisdiction tree."""

    id: int
    kind: str = Field(description="city, district, subdistrict, community or grid.")
    code: str
    name: str
    parent_id: int | None
    depth: int

    @staticmethod
    def resolve_parent_id(obj: Area) -> int | None:
        return obj.parent_id


class AreaPage(Schema):
    count: int
    items: list[AreaOut]


# --- places -------------------------------------------------------------------------------


class EstateOut(Schema):
    """A residential compound (小区)."""

    id: int
    name: str
    address: str
    community_id: int
    latitude: float | None
    longitude: float | None

    @staticmethod
    def resolve_community_id(obj: Estate) -> int:
        return obj.community_id

    @staticmethod
    def resolve_latitude(obj: Estate) -> float | None:
        return float(obj.latitude) if obj.latitude is not None else None

    @staticmethod
    def resolve_longitude(obj: Estate) -> float | None:
        return float(obj.longitude) if obj.longitude is not None else None


class EstatePage(Schema):
    count: int
    items: list[EstateOut]


class BuildingOut(Schema):
    """A building (楼栋); it lies in exactly one grid."""

    id: int
    estate_id: int
    estate_name: str
    name: str
    floors: int
    grid_id: int
    grid_code: str

    @staticmethod
    def resolve_estate_id(obj: Building) -> int:
        return obj.estate_id

    @staticmethod
    def resolve_estate_name(obj: Building) -> str:
        return obj.estate.name

    @staticmethod
    def resolve_grid_id(obj: Building) -> int:
        return obj.grid_id

    @staticmethod
    def resolve_grid_code(obj: Building) -> str:
        return obj.grid.code


class BuildingPage(Schema):
    count: int
    items: list[BuildingOut]


class DwellingOut(Schema):
    """A dwelling (房屋)."""

    id: int
    building_id: int
    entrance: str = Field(description="Entrance (单元) name, empty when the building has none.")
    floor: int
    number: str
    use: DwellingUse
    floor_area: float | None = Field(description="Floor area in m².")
    address: str
    grid_id: int
    grid_code: str

    @staticmethod
    def resolve_building_id(obj: Dwelling) -> int:
        return obj.building_id

    @staticmethod
    def resolve_entrance(obj: Dwelling) -> str:
        return obj.entrance.name if obj.entrance is not None else ""

    @staticmethod
    def resolve_floor_area(obj: Dwelling) -> float | None:
        return float(obj.floor_area) if obj.floor_area is not None else None

    @staticmethod
    def resolve_grid_id(obj: Dwelling) -> int:
        return obj.grid_id

    @staticmethod
    def resolve_grid_code(obj: Dwelling) -> str:
        return obj.grid.code


class DwellingPage(Schema):
    count: int
    items: list[DwellingOut]


# --- persons and households ---------------------------------------------------------------


class ProvenanceOut(Schema):
    """Where a field's value came from and when it was last confirmed."""

    source: str = ""
    confirmed_at: str = ""
    by: int | None = Field(None, description="Id of the user who recorded or confirmed it.")


class PersonOut(Schema):
    """A person of the register (实有人口), with national ID and phone masked."""

    id: int
    name: str
    national_id_masked: str
    phone_masked: str
    sex: str = Field(description='"M", "F" or empty when unknown.')
    birth_date: dt.date | None = Field(
        None,
        description="Full birth date, only for callers who may reveal this person's personal "
        "data (with the masked ID it would narrow the ID down to a few candidates); "
        "otherwise null.",
    )
    birth_year: int | None = Field(None, description="Year of birth, for every caller.")
    age: int | None
    residency: Residency
    status: str = Field(description="living, moved_out or deceased.")
    relation: str = Field(description="Relation to the householder; empty without household.")
    household_id: int | None
    address: str = Field(description="Address of the household's dwelling, if any.")
    grid_id: int
    grid_code: str
    tags: list[str] = Field(description="Codes of the tags the person carries.")
    provenance: dict[str, ProvenanceOut] = Field(description="Per field: source and date.")

    @staticmethod
    def resolve_national_id_masked(obj: Person) -> str:
        return obj.id_masked

    @staticmethod
    def resolve_birth_date(obj: Person, context: Any) -> dt.date | None:
        from linli.accounts.roles import Perm
        from linli.core.scoping import scope_for

        request = (context or {}).get("request")
        user = getattr(request, "auth", None)
        if obj.birth_date and scope_for(user, Perm.REVEAL_PII).covers(obj.grid):
            return obj.birth_date
        return None

    @staticmethod
    def resolve_birth_year(obj: Person) -> int | None:
        return obj.birth_date.year if obj.birth_date else None

    @staticmethod
    def resolve_household_id(obj: Person) -> int | None:
        return obj.household_id

    @staticmethod
    def resolve_address(obj: Person) -> str:
        household = obj.household
        if household is None or household.dwelling is None:
            return ""
        return household.dwelling.address

    @staticmethod
    def resolve_grid_id(obj: Person) -> int:
        return obj.grid_id

    @staticmethod
    def resolve_grid_code(obj: Person) -> str:
        return obj.grid.code

    @staticmethod
    def resolve_tags(obj: Person) -> list[str]:
        # Reads the prefetched rows; sorted so answers are stable.
        return sorted(pt.tag.code for pt in obj.person_tags.all())

    @staticmethod
    def resolve_provenance(obj: Person) -> dict[str, Any]:
        return {k: v for k, v in (obj.provenance or {}).items() if isinstance(v, dict)}


class PersonPage(Schema):
    count: int
    items: list[PersonOut]


class HouseholdOut(Schema):
    """A household (户) and its current members."""

    id: int
    dwelling_id: int | None
    address: str
    grid_id: int
    grid_code: str
    status: str = Field(description="active or dissolved.")
    householder_id: int | None
    members: list[PersonOut] = Field(description="Members living in the household now.")

    @staticmethod
    def resolve_dwelling_id(obj: Household) -> int | None:
        return obj.dwelling_id

    @staticmethod
    def resolve_address(obj: Household) -> str:
        return obj.dwelling.address if obj.dwelling is not None else ""

    @staticmethod
    def resolve_grid_id(obj: Household) -> int:
        return obj.grid_id

    @staticmethod
    def resolve_grid_code(obj: Household) -> str:
        return obj.grid.code

    @staticmethod
    def resolve_householder_id(obj: Household) -> int | None:
        return obj.householder_id

    @staticmethod
    def resolve_members(obj: Household) -> list[Person]:
        # Set by the router from a scoped prefetch; never obj.members.all() unscoped.
        return list(getattr(obj, "current_members", []))


class HouseholdPage(Schema):
    count: int
    items: list[HouseholdOut]


class PersonCreateIn(Schema):
    """A new person, moving into a household or registered directly in a grid."""

    name: str
    national_id: str = Field("", description="18-character national ID; checked and sealed.")
    phone: str = Field("", description="Mobile number; checked and sealed.")
    residency: Residency = Residency.REGISTERED
    household: int | None = Field(None, description="Id of the household the person joins.")
    grid: str | None = Field(
        None, description="Code or id of the grid, when the person joins no household."
    )
    relation: Relation | None = Field(
        None, description="Relation to the householder (required with a household)."
    )
    notes: str = ""
    tags: list[str] = Field(default_factory=list, description="Tag codes.")
    occurred_on: dt.date | None = Field(None, description="Date of moving in; today if omitted.")


class PersonUpdateIn(Schema):
    """Fields to change; omitted (or null) fields stay as they are. Send "" to clear a phone."""

    name: str | None = None
    national_id: str | None = None
    phone: str | None = None
    residency: Residency | None = None
    relation: Relation | None = None
    notes: str | None = None
    tags: list[str] | None = Field(None, description="The complete set of tag codes.")


class RevealIn(Schema):
    """Which full value to reveal, and why (the reason is written to the audit log)."""

    field: Literal["national_id", "phone"]
    reason: str = Field("", description="Why the full value is needed (required).")


class RevealOut(Schema):
    field: str
    value: str


class MoveOutIn(Schema):
    """The person left the community."""

    occurred_on: dt.date | None = Field(None, description="Date of leaving; today if omitted.")
    destination: str = Field("", description="Where they went, if known.")


class HouseholdMoveIn(Schema):
    """The whole household moves to another dwelling."""

    dwelling: int = Field(description="Id of the dwelling the household moves into.")
    occurred_on: dt.date | None = Field(None, description="Date of the move; today if omitted.")
    allow_shared: bool = Field(
        False,
        description=(
            "Move in even though another household already lives in the dwelling "
            "(refused otherwise, as a likely wrong dwelling)."
        ),
    )
