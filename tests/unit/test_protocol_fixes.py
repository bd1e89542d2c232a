"""lab_dice.errors.add_protocol_fixes: a 405 names every method of the resource, routers included
(with their prefixes), and a NaN in a body is a 422 that names it instead of a 500."""

from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient
from lab_dice.errors import add_protocol_fixes
from pydantic import BaseModel, Field


class Rate(BaseModel):
    rate: float = Field(allow_inf_nan=False)


def app_with_router(prefix: str) -> FastAPI:
    router = APIRouter()

    @router.get("/dice")
    def list_dice() -> list[str]:
        return []

    @router.post("/dice")
    def add_die(rate: Rate) -> Rate:
        return rate

    app = FastAPI()
    add_protocol_fixes(app)
    app.include_router(router, prefix=prefix)
    return app


def test_a_wrong_method_is_answered_with_every_method_of_the_path() -> None:
    for prefix in ("", "/v1"):
        response = TestClient(app_with_router(prefix)).delete(f"{prefix}/dice")
        assert response.status_code == 405
        assert response.headers["Allow"] == "GET, POST", prefix


def test_a_nan_in_the_body_is_a_422_naming_it() -> None:
    # Python's JSON parser reads NaN; FastAPI's own handler would fail to echo it back (a 500).
    response = TestClient(app_with_router("")).post(
        "/dice", content='{"rate": NaN}', headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    (error,) = response.json()["detail"]
    assert error["loc"] == ["body", "rate"] and error["input"] == "nan"
