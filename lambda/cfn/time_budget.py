"""The deadline arithmetic: when a request must be answered, and what a client's retries may take.

CloudFormation gives up on a request ServiceTimeout seconds after it sent it. The handler answers
ANSWER_MARGIN seconds earlier (a quarter of ServiceTimeout when that is shorter), counted from when the
request reached the function (:func:`answer_by`), and fits every client's retries and timeouts into the
time left (:func:`fitted_config`). ``polling.py`` applies these numbers, with ServiceTimeout read by
``outcome.service_timeout``; ``outcome.Deadline`` carries them to the resource functions' polls.
"""

from __future__ import annotations

from botocore.config import Config

# The deadline: answer at least ANSWER_MARGIN seconds (a quarter of ServiceTimeout when that is shorter)
# before CloudFormation's own timeout, counted from when the request reached the function.
ANSWER_MARGIN = 15.0
# What one look (a step) may take at the least: its calls with their retries, and the response PUT; a
# step is not started when less is left. Each client's retry budget is fitted into what is left.
MIN_STEP = 20.0
SEND_RESERVE = 5.0
CALLS_PER_STEP = 3
# botocore's standard retry mode at most: 3 attempts, 5 s to connect, 15 s to read (66 s with backoff);
# fewer and shorter when less time is left. Throttling while waiting is not a failure: the next look
# tries again.
MAX_ATTEMPTS, CONNECT_TIMEOUT, READ_TIMEOUT = 3, 5.0, 15.0


def answer_by(arrival: float, timeout: float) -> float:
    """When the answer must be sent: ServiceTimeout (``timeout``) after arrival, less the margin."""
    return arrival + timeout - min(ANSWER_MARGIN, timeout / 4)


def listened_until(answer_time: float, timeout: float) -> float:
    """When CloudFormation stops listening for the answer due at ``answer_time`` (see :func:`answer_by`)."""
    return answer_time + min(ANSWER_MARGIN, timeout / 4)


def retry_budget(attempts: int, connect: float, read: float) -> float:
    """The longest botocore's standard mode can take: every attempt timing out, plus its backoff
    (at most 2**n s before attempt n+1)."""
    return attempts * (connect + read) + sum(min(2.0**n, 20.0) for n in range(1, attempts))


FULL_BUDGET = retry_budget(MAX_ATTEMPTS, CONNECT_TIMEOUT, READ_TIMEOUT)


def fitted_config(seconds: float) -> Config:
    """Retries and timeouts whose whole budget fits in ``seconds`` (at least one short attempt)."""
    attempts = MAX_ATTEMPTS
    while attempts > 1 and retry_budget(attempts, 1.0, 2.0) > seconds:
        attempts -= 1
    per_attempt = (seconds - retry_budget(attempts, 0.0, 0.0)) / attempts
    connect = max(1.0, min(CONNECT_TIMEOUT, per_attempt / 4))
    read = max(2.0, min(READ_TIMEOUT, per_attempt - connect))
    return Config(
        retries={"mode": "standard", "max_attempts": attempts}, connect_timeout=connect, read_timeout=read
    )


def call_budget(time_left: float) -> float:
    """The retry budget of a client made with ``time_left`` seconds left for a step's calls."""
    return min(max(time_left, 1.0) / CALLS_PER_STEP, FULL_BUDGET)
