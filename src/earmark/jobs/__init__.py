"""Transcript jobs: the :class:`~earmark.jobs.base.JobQueue` seam, the in-process worker
pool, the pipeline that runs a job, ``audio_url`` downloads and webhook delivery.

Framework-free: nothing here imports FastAPI.
"""
