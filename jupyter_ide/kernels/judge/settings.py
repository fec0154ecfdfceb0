"""JudgeSettings: the admin's defaults and maxima for submissions, the queue and the pool."""

from __future__ import annotations

import os

from traitlets import Bool, Dict, Float, Int, Unicode, default
from traitlets.config import Configurable


class JudgeSettings(Configurable):
    """Limits of the compile-and-run API (Judge0's configuration variables and their maxima)."""

    enabled = Bool(
        True, help="Serve the judge API (needs a Docker engine and the sandbox images)."
    ).tag(config=True)

    # Judge0's configuration variables: defaults, then the admin's maxima.
    cpu_time_limit = Float(5.0, help="Default CPU time limit of a run, seconds.").tag(config=True)
    max_cpu_time_limit = Float(15.0, help="Largest cpu_time_limit a submission may ask for.").tag(
        config=True
    )
    cpu_extra_time = Float(1.0, help="Default extra CPU time before a run is killed, seconds.").tag(
        config=True
    )
    max_cpu_extra_time = Float(5.0, help="Largest cpu_extra_time a submission may ask for.").tag(
        config=True
    )
    wall_time_limit = Float(10.0, help="Default wall clock limit of a run, seconds.").tag(
        config=True
    )
    max_wall_time_limit = Float(20.0, help="Largest wall_time_limit a submission may ask for.").tag(
        config=True
    )
    memory_limit = Int(128_000, help="Default memory limit of a run, KB.").tag(config=True)
    max_memory_limit = Int(512_000, help="Largest memory_limit a submission may ask for, KB.").tag(
        config=True
    )
    stack_limit = Int(64_000, help="Default stack limit, KB.").tag(config=True)
    max_stack_limit = Int(128_000, help="Largest stack_limit a submission may ask for, KB.").tag(
        config=True
    )
    max_processes_and_or_threads = Int(
        60, help="Default limit of processes and threads of a run."
    ).tag(config=True)
    max_max_processes_and_or_threads = Int(
        120, help="Largest max_processes_and_or_threads a submission may ask for."
    ).tag(config=True)
    max_file_size = Int(1024, help="Default limit of a file (and of stdout/stderr), KB.").tag(
        config=True
    )
    max_max_file_size = Int(4096, help="Largest max_file_size a submission may ask for, KB.").tag(
        config=True
    )
    number_of_runs = Int(1, help="Default number of runs (time and memory are averaged).").tag(
        config=True
    )
    max_number_of_runs = Int(20, help="Largest number_of_runs a submission may ask for.").tag(
        config=True
    )
    redirect_stderr_to_stdout = Bool(False, help="Default of redirect_stderr_to_stdout.").tag(
        config=True
    )
    allow_enable_network = Bool(
        False,
        help="Whether a submission may ask for enable_network. The sandbox has no network, so "
        "even when allowed the program gets none; leave off unless a client insists on sending it.",
    ).tag(config=True)
    enable_per_process_and_thread_time_limit = Bool(
        False, help="Default: the CPU limit applies to the whole program (False) or per process."
    ).tag(config=True)
    enable_per_process_and_thread_memory_limit = Bool(
        False,
        help="Default: the memory limit is the cgroup's (False) or each process's address space.",
    ).tag(config=True)
    allow_enable_per_process_and_thread_time_limit = Bool(True, help="Judge0's switch.").tag(
        config=True
    )
    allow_enable_per_process_and_thread_memory_limit = Bool(True, help="Judge0's switch.").tag(
        config=True
    )
    enable_wait_result = Bool(True, help="Whether POST /submissions may use wait=true.").tag(
        config=True
    )
    enable_compiler_options = Bool(True, help="Whether compiler_options may be set.").tag(
        config=True
    )
    enable_command_line_arguments = Bool(
        True, help="Whether command_line_arguments may be set."
    ).tag(config=True)
    enable_additional_files = Bool(True, help="Whether additional_files may be sent.").tag(
        config=True
    )
    max_submission_batch_size = Int(20, help="Most submissions in one batch.").tag(config=True)
    max_extract_size = Int(10240, help="Largest unzipped additional_files, KB.").tag(config=True)
    compile_time_limit = Float(15.0, help="CPU time limit of a compile step, seconds.").tag(
        config=True
    )
    compile_wall_time_limit = Float(30.0, help="Wall clock limit of a compile step, seconds.").tag(
        config=True
    )
    compile_memory_limit = Int(1_024_000, help="Memory limit of a compile step, KB.").tag(
        config=True
    )

    # Input size caps (413/422 beyond them).
    max_source_bytes = Int(1024 * 1024, help="Largest source_code, bytes.").tag(config=True)
    max_stdin_bytes = Int(4 * 1024 * 1024, help="Largest stdin or expected_output, bytes.").tag(
        config=True
    )
    max_request_bytes = Int(
        16 * 1024 * 1024, help="Largest request body (a batch included), bytes."
    ).tag(config=True)

    # Queue, fairness and rate limits.
    workers = Int(
        0,
        help="Submissions run at once (0: one per CPU core). Env: JUPYTER_IDE_JUDGE_WORKERS.",
    ).tag(config=True)
    max_queue_size = Int(100, help="Submissions waiting at most (full queue: 503).").tag(
        config=True
    )
    max_queued_per_user = Int(
        0, help="Submissions one user may have waiting (0: no own cap, only the queue's)."
    ).tag(config=True)
    submissions_per_minute = Int(
        120, help="Submissions per user per minute, through the shared cache (0: no limit)."
    ).tag(config=True)
    retry_after = Int(2, help="Retry-After seconds sent with a full queue's 503.").tag(config=True)

    # The shared queue (with JUPYTER_IDE_REDIS_URL): workers of every process and node.
    run_workers = Bool(
        True,
        help="Run submissions in this process. With Redis, off leaves them to other processes "
        "(`jupyter ide judge-worker`, other replicas); without Redis this process always "
        "runs them.",
    ).tag(config=True)
    claim_idle_seconds = Float(
        30.0,
        help="With Redis: a submission whose worker gave no sign of life for this long (it "
        "died) is taken over by another worker and run again.",
    ).tag(config=True)
    max_deliveries = Int(
        3,
        help="With Redis: a submission handed to this many workers that all died on it ends "
        "as an internal error instead of being run again.",
    ).tag(config=True)
    queue_name = Unicode(
        help="With Redis: the shared queue's name (default: derived from the database, so "
        "the processes of one database share one queue)."
    ).tag(config=True)

    # Warm pool and compile cache.
    pool_size = Int(1, help="Warm one-shot sandboxes kept ready per language (0: none).").tag(
        config=True
    )
    pool_sizes = Dict(
        help="Warm sandboxes per language key, overriding pool_size (e.g. {'c': 4, 'python': 4})."
    ).tag(config=True)
    warm_languages = Unicode(
        "c,python",
        help="Comma-separated language keys whose pool fills at start-up (others: first use).",
    ).tag(config=True)
    multi_file_language = Unicode(
        "cpp", help="Image (language key) multi-file programs (id 89) run in."
    ).tag(config=True)
    compile_cache = Bool(True, help="Reuse compiled artefacts of identical sources.").tag(
        config=True
    )
    compile_cache_bytes = Int(
        512 * 1024 * 1024, help="Size of the compile cache on disk before old entries go, bytes."
    ).tag(config=True)
    data_dir = Unicode(help="Host folder for the judge (boxes, compile cache, helper).").tag(
        config=True
    )
    keep_results_seconds = Float(
        3600.0, help="How long finished results stay in memory besides the database."
    ).tag(config=True)

    @default("workers")
    def _default_workers(self) -> int:
        env = os.environ.get("JUPYTER_IDE_JUDGE_WORKERS", "").strip()
        if env.isdigit() and int(env) > 0:
            return int(env)
        return 0

    def worker_count(self) -> int:
        """Return how many submissions run at once."""
        return self.workers if self.workers > 0 else max(1, os.cpu_count() or 1)

    def pool_size_of(self, key: str) -> int:
        """Return the warm pool size of one language key."""
        return int(self.pool_sizes.get(key, self.pool_size))

    def config_info(self) -> dict[str, object]:
        """Return Judge0's GET /config_info body."""
        return {
            "maintenance_mode": False,
            "enable_wait_result": self.enable_wait_result,
            "enable_compiler_options": self.enable_compiler_options,
            "allowed_languages_for_compile_options": [],
            "enable_command_line_arguments": self.enable_command_line_arguments,
            "enable_submission_delete": False,
            "enable_callbacks": False,
            "callbacks_max_tries": 0,
            "callbacks_timeout": 0,
            "enable_additional_files": self.enable_additional_files,
            "max_queue_size": self.max_queue_size,
            "cpu_time_limit": self.cpu_time_limit,
            "max_cpu_time_limit": self.max_cpu_time_limit,
            "cpu_extra_time": self.cpu_extra_time,
            "max_cpu_extra_time": self.max_cpu_extra_time,
            "wall_time_limit": self.wall_time_limit,
            "max_wall_time_limit": self.max_wall_time_limit,
            "memory_limit": self.memory_limit,
            "max_memory_limit": self.max_memory_limit,
            "stack_limit": self.stack_limit,
            "max_stack_limit": self.max_stack_limit,
            "max_processes_and_or_threads": self.max_processes_and_or_threads,
            "max_max_processes_and_or_threads": self.max_max_processes_and_or_threads,
            "enable_per_process_and_thread_time_limit": (
                self.enable_per_process_and_thread_time_limit
            ),
            "allow_enable_per_process_and_thread_time_limit": (
                self.allow_enable_per_process_and_thread_time_limit
            ),
            "enable_per_process_and_thread_memory_limit": (
                self.enable_per_process_and_thread_memory_limit
            ),
            "allow_enable_per_process_and_thread_memory_limit": (
                self.allow_enable_per_process_and_thread_memory_limit
            ),
            "max_file_size": self.max_file_size,
            "max_max_file_size": self.max_max_file_size,
            "number_of_runs": self.number_of_runs,
            "max_number_of_runs": self.max_number_of_runs,
            "redirect_stderr_to_stdout": self.redirect_stderr_to_stdout,
            "max_extract_size": self.max_extract_size,
            "enable_batched_submissions": True,
            "max_submission_batch_size": self.max_submission_batch_size,
            "submission_cache_duration": 0,
            "use_docs_as_homepage": False,
            "allow_enable_network": self.allow_enable_network,
            "enable_network": False,
            "disable_implicit_base64_encoding": False,
        }
