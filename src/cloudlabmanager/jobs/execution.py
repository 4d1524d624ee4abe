"""Running one claimed job: its flow's steps in order, to a final state.

Every step echoes its command, records its start, end and exit code, and keeps
Ansible's structured results. The first failing step ends the job as failed.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from cloudlabmanager.errors import AppError
from cloudlabmanager.jobs import states
from cloudlabmanager.jobs.environment import step_environment
from cloudlabmanager.jobs.flows import FlowStep, build_flow
from cloudlabmanager.jobs.output import SecretMasker
from cloudlabmanager.jobs.process_groups import process_start_ticks
from cloudlabmanager.jobs.runner import StepCommand, StepOutcome, run_step
from cloudlabmanager.jobs.sink import OutputSink
from cloudlabmanager.jobs.store import StaleTransition
from cloudlabmanager.storage.clock import utcnow

if TYPE_CHECKING:
    from cloudlabmanager.jobs.engine import JobEngine, RunningJob

log = logging.getLogger("cloudlabmanager.jobs")

CANCEL_NOTE = (
    "*** Job {status}: the step's processes were sent SIGTERM, then SIGKILL after {grace:g} s. "
    "Handlers and cleanup tasks may not have run; check the affected hosts."
)


class StepFailed(Exception):
    def __init__(self, status: str, error: str, exit_code: int | None = None) -> None:
        super().__init__(error)
        self.status = status
        self.error = error
        self.exit_code = exit_code


def _results_rows(outcome: StepOutcome) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    if outcome.results is None:
        return [], []
    hosts = [
        {"play": h.play, "task": h.task, "host": h.host, "status": h.status, "message": h.message}
        for h in outcome.results.hosts
    ]
    recap = [
        {
            "host": r.host,
            "ok": r.ok,
            "changed": r.changed,
            "failed": r.failed,
            "unreachable": r.unreachable,
            "skipped": r.skipped,
            "rescued": r.rescued,
            "ignored": r.ignored,
        }
        for r in outcome.results.recap
    ]
    return hosts, recap


async def _run_one(
    engine: JobEngine,
    running: RunningJob,
    sink: OutputSink,
    masker: SecretMasker,
    index: int,
    step: FlowStep,
    deadline: float,
) -> None:
    ctx, store, job_id = engine.ctx, engine.store, running.job_id
    assert ctx.lab_dir is not None
    shown = masker.mask(step.display())
    await sink.write([shown])
    await asyncio.to_thread(store.start_step, job_id, index, step.name, shown[2:])

    async def on_started(pid: int) -> None:
        def record() -> None:
            store.set_fields(job_id, pgid=pid, pgid_started=process_start_ticks(pid))

        await asyncio.to_thread(record)

    settings = ctx.settings
    outcome = await run_step(
        StepCommand(
            name=step.name,
            argv=step.argv,
            cwd=ctx.lab_dir,
            env=step_environment(ctx, script=step.script),
            ansible_events=step.ansible_events,
        ),
        on_lines=sink.write,
        on_started=on_started,
        masker=masker,
        max_line_bytes=settings.max_line_bytes,
        cancel=running.cancel,
        grace=settings.cancel_grace,
        deadline=deadline,
    )
    if outcome.cancelled:
        step_status = running.cancel_status
    elif outcome.timed_out:
        step_status = states.FAILED
    elif outcome.error is not None or outcome.exit_code != 0:
        step_status = states.FAILED
    else:
        step_status = states.COMPLETED
    await asyncio.to_thread(store.finish_step, job_id, index, step_status, outcome.exit_code)
    hosts, recap = _results_rows(outcome)
    if hosts or recap:
        await asyncio.to_thread(store.add_results, job_id, index, hosts, recap)

    if outcome.cancelled:
        note = CANCEL_NOTE.format(status=running.cancel_status, grace=settings.cancel_grace)
        await sink.write([note])
        raise StepFailed(running.cancel_status, f"{running.cancel_status} during {step.name}")
    if outcome.timed_out:
        limit = f"{settings.job_timeout:g} s"
        await sink.write([f"*** Job timed out after {limit} (CLM_JOB_TIMEOUT) during {step.name}."])
        raise StepFailed(states.FAILED, f"timed out after {limit} during {step.name}")
    if outcome.error is not None:
        await sink.write([f"*** {step.name} could not run: {outcome.error}"])
        raise StepFailed(states.FAILED, f"{step.name}: {outcome.error}")
    if outcome.exit_code != 0:
        await sink.write([f"*** {step.name} failed with exit code {outcome.exit_code}."])
        raise StepFailed(
            states.FAILED, f"{step.name} exited with {outcome.exit_code}", outcome.exit_code
        )
    if step.after is not None:
        await asyncio.to_thread(step.after, ctx)


async def execute_job(engine: JobEngine, running: RunningJob) -> None:
    ctx, store, job_id = engine.ctx, engine.store, running.job_id
    job = await asyncio.to_thread(store.get, job_id)
    engine.hub.open(job_id, states.RUNNING, job.line_count)
    engine.hub.set_status(job_id, states.RUNNING)
    sink = OutputSink(store, engine.hub, job_id, next_seq=job.line_count + 1)
    final: str = states.COMPLETED
    error: str | None = None
    exit_code: int | None = 0
    loop = asyncio.get_running_loop()
    deadline = loop.time() + ctx.settings.job_timeout
    try:
        masker = await asyncio.to_thread(engine.masker)
        steps = await asyncio.to_thread(build_flow, ctx, job.action, job.service, job.params)
        for index, step in enumerate(steps, start=1):
            if running.cancel.is_set():
                raise StepFailed(
                    running.cancel_status, f"{running.cancel_status} before {step.name}"
                )
            await _run_one(engine, running, sink, masker, index, step, deadline)
        await sink.write([f"*** Job completed: {len(steps)} step(s) succeeded."])
    except StepFailed as failure:
        final, error, exit_code = failure.status, failure.error, failure.exit_code
    except AppError as exc:
        final, error, exit_code = states.FAILED, exc.detail, None
        await _write_quietly(sink, f"*** Job failed: {exc.detail}")
    except Exception as exc:
        log.exception("job %s failed unexpectedly", job_id)
        final, error, exit_code = (
            states.FAILED,
            f"internal error: {type(exc).__name__}: {exc}",
            None,
        )
        await _write_quietly(sink, f"*** Job failed: {error}")
    finally:
        line_count = sink.line_count
        try:
            await sink.close()
        except RuntimeError:
            final, error = states.FAILED, _storage_error(sink.failure)
            line_count = await asyncio.to_thread(store.last_seq, job_id)
        await _record_final(
            engine,
            job_id,
            final,
            finished_at=utcnow(),
            exit_code=exit_code,
            error=error,
            deployment_id=sink.deployment_id,
            line_count=line_count,
            pgid=None,
            pgid_started=None,
        )
        engine.hub.set_status(job_id, final, ended=True)


def _storage_error(failure: BaseException | None) -> str:
    """One line that says why output could not be stored (no SQL, no parameters)."""
    cause = getattr(failure, "orig", None) or failure
    reason = (str(cause).splitlines() or ["unknown error"])[0][:200] if cause else "unknown error"
    return f"job output could not be stored: {reason}"


async def _record_final(engine: JobEngine, job_id: int, final: str, **fields: Any) -> None:
    """Record the job's end; retried while the database refuses (a full disk, a lock).

    A job must never stay `running` in the database while the server lives: once
    space is back the state lands. On shutdown the next start marks it interrupted.
    """
    delay = 0.5
    while True:
        try:
            await asyncio.to_thread(
                engine.store.transition,
                job_id,
                (states.RUNNING,),
                final,  # type: ignore[arg-type]
                **fields,
            )
            return
        except StaleTransition:
            log.warning("job %s: already left running; final state %s not recorded", job_id, final)
            return
        except Exception as exc:
            if engine.stopping:
                log.error("job %s: final state %s not recorded before shutdown", job_id, final)
                return
            log.warning(
                "job %s: recording the final state %s failed (%s); retrying in %g s",
                job_id,
                final,
                (str(getattr(exc, "orig", exc)).splitlines() or [""])[0][:200],
                delay,
            )
        await asyncio.sleep(delay)
        delay = min(delay * 2, 10.0)


async def _write_quietly(sink: OutputSink, line: str) -> None:
    try:
        await sink.write([line])
    except RuntimeError:
        pass
