"""The job routes on the Selectools blueprint: `{prefix}/jobs` and `/jobs/<id>[/events]`."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, request

from selectools.jobs import Jobs
from selectools.jobs import handlers as job_handlers
from selectools.jobs.wire import JobRequest

__all__ = ["add_job_routes", "jobs_of_app"]


def jobs_of_app() -> Jobs:
    jobs: Jobs = current_app.extensions["selectools_jobs"]
    return jobs


def add_job_routes(bp: Blueprint) -> None:
    from .extension import _agent, _answers_our_errors, _body, _caller, _send, _state

    @bp.post("/jobs")
    @_answers_our_errors
    def submit_job() -> Response:
        body = _body(JobRequest)
        answer = job_handlers.submit_job(
            _agent(), jobs_of_app(), body, _caller(), _state().options, request.path
        )
        return _send(answer)

    @bp.get("/jobs/<job_id>")
    @_answers_our_errors
    def read_job(job_id: str) -> Response:
        return _send(job_handlers.read_job(jobs_of_app(), job_id, _caller()))

    @bp.get("/jobs/<job_id>/events")
    @_answers_our_errors
    def job_events(job_id: str) -> Response:
        last = request.headers.get("Last-Event-ID")
        answer = job_handlers.job_events(jobs_of_app(), job_id, _caller(), _state().options, last)
        return _send(answer)

    @bp.delete("/jobs/<job_id>")
    @_answers_our_errors
    def cancel_job(job_id: str) -> Response:
        return _send(job_handlers.cancel_job(jobs_of_app(), job_id, _caller()))
