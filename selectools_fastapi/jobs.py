"""The job routes on an AgentRouter: `{prefix}/jobs`, `/jobs/{id}`, `/jobs/{id}/events`."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Request, Response

from selectools import Agent
from selectools.jobs import Jobs
from selectools.jobs import handlers as job_handlers
from selectools.jobs.wire import JobRequest, JobResponse
from selectools.serving import Answer, Caller, ServingOptions, Stream

__all__ = ["add_job_routes"]


def add_job_routes(
    router: APIRouter,
    jobs: Jobs,
    get_agent: Callable[[Request], Awaitable[Agent]],
    who: Any,
    with_caller: Callable[[Any], Any],
    options: ServingOptions,
    send: Callable[[Answer | Stream], Response],
    errors: dict[int | str, dict[str, Any]],
) -> None:
    sse: dict[int | str, dict[str, Any]] = {
        200: {"content": {"text/event-stream": {}}, "description": "Server-Sent Events"}
    }

    @router.post("/jobs", status_code=202, response_model=JobResponse, responses=errors)
    @with_caller
    async def submit_job(request: Request, body: JobRequest, caller: Caller = who) -> Response:
        """Start a background job (one input or many); 202 with its id and Location."""
        agent = await get_agent(request)
        path = request.url.path
        return send(
            await asyncio.to_thread(
                job_handlers.submit_job, agent, jobs, body, caller, options, path
            )
        )

    @router.get("/jobs/{job_id}", response_model=JobResponse, responses=errors)
    @with_caller
    async def read_job(job_id: str, caller: Caller = who) -> Response:
        """A job's status, progress and finished results."""
        return send(await asyncio.to_thread(job_handlers.read_job, jobs, job_id, caller))

    @router.get("/jobs/{job_id}/events", responses={**sse, **errors})
    @with_caller
    async def job_events(request: Request, job_id: str, caller: Caller = who) -> Response:
        """The job's events as Server-Sent Events, until it ends (after `Last-Event-ID`)."""
        last = request.headers.get("last-event-id")
        answer = await asyncio.to_thread(
            job_handlers.job_events, jobs, job_id, caller, options, last
        )
        return send(answer)

    @router.delete("/jobs/{job_id}", status_code=202, response_model=JobResponse, responses=errors)
    @with_caller
    async def cancel_job(job_id: str, caller: Caller = who) -> Response:
        """Cancel a job: it stops within moments."""
        return send(await asyncio.to_thread(job_handlers.cancel_job, jobs, job_id, caller))
