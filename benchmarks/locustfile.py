"""Locust users for the load-generator benchmark: the same request, no think time."""

from locust import FastHttpUser, HttpUser, constant, task


class Http(HttpUser):
    wait_time = constant(0)

    @task
    def roll(self) -> None:
        self.client.get("/roll/3d6")


class FastHttp(FastHttpUser):
    wait_time = constant(0)

    @task
    def roll(self) -> None:
        self.client.get("/roll/3d6")
