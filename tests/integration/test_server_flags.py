"""plinth's command line against tensorflow_model_server's (spec 1a): every
flag name with its default in --help, --version, the value forms, unknown
flags, and the startup validation messages of server.cc."""
import os
import subprocess
import unittest

import tfs

# Every flag of tensorflow_model_server's main.cc with the default --help shows.
TFS_FLAGS = {
    "port": "8500", "grpc_socket_path": '""', "rest_api_port": "0", "rest_api_timeout_in_ms": "30000",
    "rest_api_enable_cors_support": "false", "enable_batching": "false",
    "allow_version_labels_for_unavailable_models": "false", "batching_parameters_file": '""',
    "enable_per_model_batching_parameters": "false", "model_config_file": '""',
    "model_config_file_poll_wait_seconds": "0", "model_name": '"default"', "model_base_path": '""',
    "num_load_threads": "0", "num_unload_threads": "0", "max_num_load_retries": "5",
    "load_retry_interval_micros": "60000000", "file_system_poll_wait_seconds": "1",
    "flush_filesystem_caches": "true", "tensorflow_session_parallelism": "0",
    "tensorflow_session_config_file": '""', "tensorflow_intra_op_parallelism": "0",
    "tensorflow_inter_op_parallelism": "0", "use_alts_credentials": "false", "ssl_config_file": '""',
    "platform_config_file": '""', "per_process_gpu_memory_fraction": "0.000000", "saved_model_tags": '"serve"',
    "grpc_channel_arguments": '""', "enable_model_warmup": "true", "num_request_iterations_for_warmup": "0",
    "version": "false", "monitoring_config_file": '""', "remove_unused_fields_from_bundle_metagraph": "true",
    "prefer_tflite_model": "false", "num_tflite_interpreters_per_pool": "1",
    "enable_signature_method_name_check": "false", "xla_cpu_compilation_enabled": "false",
    "xla_gpu_compilation_enabled": "false", "enable_profiler": "true", "thread_pool_factory_config_file": '""',
    "mixed_precision": '""', "skip_initialize_tpu": "false", "enable_grpc_healthcheck_service": "false",
    "enable_serialization_as_tensor_content": "false",
}
# Defaults that scale with the CPU count N.
CPU_FLAGS = {"rest_api_num_threads": 4, "grpc_max_threads": 4, "num_tflite_pools": 1}


def run(*args, timeout=30):
    p = subprocess.run([tfs.plinth_bin()] + list(args), capture_output=True, text=True, timeout=timeout * tfs.SLOW)
    return p.returncode, p.stdout, p.stderr


class Flags(unittest.TestCase):
    def test_help_lists_every_flag_with_its_default(self):
        code, out, _ = run("--help")
        self.assertEqual(code, 0)
        self.assertTrue(out.startswith("usage: "), out[:100])
        shown = {}
        for line in out.splitlines():
            if line.startswith("\t--"):
                flag = line.split("\t")[1].strip()
                name, _, value = flag[2:].partition("=")
                shown[name] = value
        for name, default in TFS_FLAGS.items():
            self.assertIn(name, shown)
            self.assertEqual(shown[name], default, name)
        n = os.cpu_count()
        for name, k in CPU_FLAGS.items():
            self.assertEqual(shown[name], str(k * n), name)

    def test_version(self):
        code, out, _ = run("--version")
        self.assertEqual(code, 0)
        self.assertIn("TensorFlow ModelServer: ", out)
        self.assertIn("TensorFlow Library: ", out)
        # --version wins over everything else, as in main.cc.
        code, out, _ = run("--port=0", "--version")
        self.assertEqual(code, 0)

    def test_unknown_flag_is_an_error_with_usage(self):
        for bad in (["--no_such_flag=1"], ["--portx=1"], ["stray"], ["--"]):
            code, out, err = run(*bad)
            self.assertNotEqual(code, 0, bad)
            self.assertIn("unknown argument: " + bad[0], err)
            self.assertIn("usage: ", err)
            self.assertIn("--model_base_path", err)

    def test_bad_values(self):
        cases = [
            (["--port=abc"], "Couldn't interpret value abc for flag port."),
            (["--port=99999999999"], "Couldn't interpret value 99999999999 for flag port."),
            (["--enable_batching=maybe"], "Couldn't interpret value maybe for flag enable_batching."),
            (["--per_process_gpu_memory_fraction=x"], "Couldn't interpret value x for flag per_process_gpu_memory_fraction."),
            (["--model_name"], "missing value"),
        ]
        for args, msg in cases:
            code, _, err = run(*args)
            self.assertNotEqual(code, 0, args)
            self.assertIn(msg, err, args)

    def test_startup_validation(self):
        # server.cc BuildAndStart checks, in its order; each proves the flags
        # before it were parsed in the form used.
        cases = [
            (["--model_base_path=/m"] + ["--port", "0"],
             "At least one of server_options.grpc_port or server_options.grpc_socket_path must be set."),
            (["--port=0", "--enable_batching", "--batching_parameters_file=/b"],
             "At least one of server_options.grpc_port or server_options.grpc_socket_path must be set."),
            ([], "Both server_options.model_base_path and server_options.model_config_file are empty!"),
            (["--model_base_path=/m", "--batching_parameters_file=/b"],
             "server_options.batching_parameters_file is set without setting server_options.enable_batching to true."),
            (["--model_base_path=/m", "--enable_batching=false", "--batching_parameters_file", "/b"],
             "server_options.batching_parameters_file is set without setting server_options.enable_batching to true."),
            (["--model_base_path=/m", "--tensorflow_session_parallelism=2", "--tensorflow_intra_op_parallelism=2",
              "--tensorflow_inter_op_parallelism=2"],
             "Either configure server_options.tensorflow_session_parallelism or "
             "(server_options.tensorflow_intra_op_parallelism, server_options.tensorflow_inter_op_parallelism) "
             "separately. You cannot configure all."),
            (["--model_base_path=/m", "--use_alts_credentials=true", "--ssl_config_file=/s"],
             "Either use_alts_credentials must be false or ssl_config_file must be empty."),
        ]
        for args, msg in cases:
            code, out, err = run(*args)
            self.assertNotEqual(code, 0, args)
            self.assertIn("Failed to start server. Error: INVALID_ARGUMENT: " + msg, out + err, args)

    def test_no_op_flags_are_accepted(self):
        # CPU-irrelevant flags parse; the run then stops at the first real check.
        code, out, err = run("--per_process_gpu_memory_fraction=0.5", "--xla_cpu_compilation_enabled",
                             "--xla_gpu_compilation_enabled=true", "--skip_initialize_tpu", "--mixed_precision=bfloat16",
                             "--enable_profiler=false", "--num_tflite_pools=3", "--prefer_tflite_model",
                             "--flush_filesystem_caches=false", "--remove_unused_fields_from_bundle_metagraph=false")
        self.assertIn("Both server_options.model_base_path and server_options.model_config_file are empty!", out + err)


if __name__ == "__main__":
    unittest.main(verbosity=2)
