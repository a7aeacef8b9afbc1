"""Grading past one machine: the jobs of a batch on Dask workers (an existing scheduler, a
LocalCluster, SLURM jobs). The coordinator keeps the journal, the gradebook and the reports;
a worker grades a job as one machine does and sends its report back as JSON."""
