"""The job routes, once, for every adapter: `POST /jobs`, `GET /jobs/{id}`,
`GET /jobs/{id}/events` (SSE) and `DELETE /jobs/{id}`.

Handlers are sync (store calls are short); ASGI adapters call them in a
thread. A job belongs to the identity that submitted it: for anyone else it
does not exist (404), exactly like sessions.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import AsyncIterator

from ..agent import Agent
from ..errors import SelectoolsError
from ..serving import sse
from ..serving.admission import admission_for
from ..serving.errors import InvalidRequestError, RequestTooLargeError
from ..serving.handlers import Answer, Stream
from ..serving.options import Caller, ServingOptions
from .charging import quota_spec
from .record import JobRecord, new_job_id
from .service import Jobs
from .wire import JOB_ID_PATTERN, JobRequest, JobResponse

__all__ = ["JobNotFoundError", "cancel_job", "job_events", "read_job", "submit_job"]


class JobNotFoundError(SelectoolsError, LookupError):
    """No job under that id for this caller (it may belong to someone else, or have expired)."""

    default_status = 404


def submit_job(
    agent: Agent, jobs: Jobs, body: JobRequest, caller: Caller, options: ServingOptions, path: str
) -> Answer:
    """`POST /jobs`: store the job, start it, answer 202 with its id and Location."""
    try:
        requests = body.requests()
        if len(requests) > jobs.max_inputs:
            raise RequestTooLargeError(
                f"The job has {len(requests)} inputs; the limit is {jobs.max_inputs}. "
                f"Split it into several jobs."
            )
        for request in requests:
            if request.input_chars() > options.max_input_chars:
                raise RequestTooLargeError(
                    f"An input is {request.input_chars()} characters; the limit is "
                    f"{options.max_input_chars}. Shorten it."
                )
            request.run_input()  # what /invoke refuses (no messages, a part without a url)
        admission = admission_for(options)
        admission.arrive_sync(caller)  # a job is one request
        admission.before_run_sync(caller)
        timeout = min(body.timeout_seconds or jobs.max_timeout, jobs.max_timeout)
        record = JobRecord(
            id=new_job_id(),
            owner=caller.identity,
            inputs=tuple(r.model_dump(mode="json", exclude_none=True) for r in requests),
            timeout=timeout,
            concurrency=jobs.concurrency,
            metadata=dict(caller.metadata) if caller.metadata is not None else None,
            quota=quota_spec(options, caller),
        )
        jobs.store.create(record)
        jobs.executor.submit(agent, jobs.store, record.id)
    except Exception as exc:
        return Answer.failure(exc)
    answer = _job_answer(jobs, record.id, 202)
    location = f"{path.rstrip('/')}/{record.id}"
    return Answer(answer.status, answer.body, {"Location": location})


def read_job(jobs: Jobs, job_id: str, caller: Caller) -> Answer:
    """`GET /jobs/{id}`: status, progress and the finished items' answers."""
    try:
        _visible(jobs, job_id, caller)
    except Exception as exc:
        return Answer.failure(exc)
    return _job_answer(jobs, job_id, 200)


def cancel_job(jobs: Jobs, job_id: str, caller: Caller) -> Answer:
    """`DELETE /jobs/{id}`: ask the job to stop (202); the runner stops it within moments."""
    try:
        _visible(jobs, job_id, caller)
        jobs.store.request_cancel(job_id)
        state = jobs.store.state(job_id)
        if state is not None and state.status == "queued":
            # not started: no runner will report it, so say it here (a runner starting
            # now sees the flag too and ends it the same way)
            jobs.store.set_status(job_id, "cancelled")
            jobs.store.add_event(job_id, "job_finished", {"status": "cancelled", "error": None})
    except Exception as exc:
        return Answer.failure(exc)
    return _job_answer(jobs, job_id, 202)


def job_events(
    jobs: Jobs,
    job_id: str,
    caller: Caller,
    options: ServingOptions,
    last_event_id: str | None = None,
) -> Stream | Answer:
    """`GET /jobs/{id}/events`: the job's events as SSE, until it ends.

    From the first event, or after `Last-Event-ID` (each frame's `id:`), so a
    client that lost its connection picks up where it was.
    """
    try:
        _visible(jobs, job_id, caller)
        after = _event_number(last_event_id)
        if after and not jobs.store.events(job_id, after - 1):  # no event `after` was sent
            raise InvalidRequestError(_NOT_SENT)
    except Exception as exc:
        return Answer.failure(exc)
    return Stream(_frames(jobs, job_id, options, after))


_NOT_SENT = "Last-Event-ID must be the `id` of an event this stream sent."


def _event_number(last_event_id: str | None) -> int:
    if last_event_id is None or last_event_id == "":
        return 0
    if not re.fullmatch(r"[0-9]{1,18}", last_event_id):  # not isdigit(): "²" is a digit
        raise InvalidRequestError(_NOT_SENT)
    return int(last_event_id)


async def _frames(
    jobs: Jobs, job_id: str, options: ServingOptions, after: int
) -> AsyncIterator[str]:
    seen = after
    quiet_since = time.monotonic()
    while True:
        events = await asyncio.to_thread(jobs.store.events, job_id, seen)
        for seq, name, data in events:
            seen = seq
            yield f"id: {seq}\nevent: {name}\ndata: {json.dumps(data)}\n\n"
            if name == "job_finished":
                return
        if events:
            quiet_since = time.monotonic()
        elif time.monotonic() - quiet_since >= options.keepalive_seconds:
            quiet_since = time.monotonic()
            yield sse.comment()
        await asyncio.sleep(jobs.poll_seconds)


def _visible(jobs: Jobs, job_id: str, caller: Caller) -> JobRecord:
    record = jobs.store.record(job_id) if re.fullmatch(JOB_ID_PATTERN, job_id) else None
    if record is None or (record.owner is not None and record.owner != caller.identity):
        raise JobNotFoundError(f"No job '{job_id[:64]}' for this caller.")
    return record


def _job_answer(jobs: Jobs, job_id: str, status: int) -> Answer:
    record = jobs.store.record(job_id)
    state = jobs.store.state(job_id)
    if record is None or state is None:
        return Answer.failure(JobNotFoundError(f"No job '{job_id}' for this caller."))
    body = JobResponse.of(record, state, jobs.store.items(job_id))
    return Answer(status, body.model_dump_json().encode())
