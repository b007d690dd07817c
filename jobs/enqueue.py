"""Enqueueing from the web process: job ids and queues for each kind of job."""

from __future__ import annotations

import uuid
from uuid import UUID

from app.config import Config
from jobs.queues import BUY_QUEUE, queue

EVALUATE_JOB_TIMEOUT = 120


def enqueue_buy_evaluation(config: Config, prediction_ids: list[UUID]) -> str:
    """Enqueue one job evaluating these predictions, in order; returns its job id."""
    job_id = f"buy-{uuid.uuid4().hex}"
    queue(config, BUY_QUEUE).enqueue(
        "jobs.buy.evaluate_predictions", [str(pid) for pid in prediction_ids],
        job_id=job_id, job_timeout=EVALUATE_JOB_TIMEOUT, result_ttl=600, failure_ttl=86_400,
    )
    return job_id
