"""Background work seen from the web: the vendor admins' page of the job queue
(queue length, workers' heartbeats, failed jobs, the schedule) and the records
the worker keeps for it. The queue itself is `portal.jobs`."""
