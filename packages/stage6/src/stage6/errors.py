"""The error body of every error this stage's APIs raise themselves: {"detail": "what was wrong"}.

FastAPI's own request validation keeps its standard 422 body (a list of errors, one per bad
field). Each route declares the other codes it can answer with this model, so the OpenAPI
document, and a client generated from it, knows every answer.
"""

from pydantic import BaseModel


class ErrorMessage(BaseModel):
    detail: str


MEANINGS = {
    400: "The body is not JSON.",
    404: "No such thing: the message names it.",
    409: "Conflicts with what is stored: the message says how.",
    500: "A simulated failure, one of the lab's labelled faults: the message says so.",
    503: "A dependency is down or slow, or the service is at capacity: retry after Retry-After.",
}


def error_responses(*codes: int) -> dict[int | str, dict]:
    """`responses=` for a route: each code with ErrorMessage and what it means."""
    return {code: {"model": ErrorMessage, "description": MEANINGS[code]} for code in codes}
