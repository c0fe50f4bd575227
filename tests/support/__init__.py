"""The test suite's shared helpers, one home per kind (fixtures that wrap them: tests/conftest.py).

* constants.py: the repository and fixture paths, the local servers' keys, GC_ON, NONCURRENT_RULE;
* run.py: running the real CLI (subprocess, pseudo-terminal) and `missing_tool`;
* ports.py: a closed port and a silent one (accepts, never answers);
* s3.py: moto (S3) servers, buckets and IAM users;
* cloud_servers.py: the GCS emulator, Azurite, a fake Azure Resource Manager, JSON servers;
* faults.py: fault servers (one misbehaviour each) and scripted servers (any answer);
* recording_proxy.py: the recording reverse proxy, and the README's Permissions operations;
* k8s_api.py: the fake Kubernetes API and its kubeconfig;
* cpu_load.py: busy processes on every CPU.
"""
