"""Azure Blob Storage: blob soft delete (the Blob service deleteRetentionPolicy).

Two ways to read it, both read-only:

* management plane (azure-mgmt-storage, a token from azure-identity's DefaultAzureCredential
  unless one is injected): list the subscription's storage accounts to find the account's
  resource group (skipped with --azure-resource-group), then GET blobServices/default and the
  container. Gives blob soft delete, blob versioning, container soft delete and the
  container's immutability policy / legal hold.
* data plane (azure-storage-blob with the account key, as W&B itself runs): Get Blob Service
  Properties and Get Container Properties. Gives blob soft delete and immutability.

Choice (unless --azure-plane forces one): an account key at hand -> data plane; else a
subscription -> management plane. SDKs are imported on first use.

Faults, on both planes: a 429 or 5xx is retried (at most 3 attempts per call, honouring
Retry-After, never past the deadline); a redirect is not followed; a 2xx answer must be the
document asked for (ARM's JSON resource or list, the Blob service's StorageServiceProperties
and x-ms-request-id), so a proxy's HTML page or a truncated body is `unknown`, never read as
"soft delete disabled".

Modules: `credentials` (keys, tokens, endpoints), `answers` (what answers and errors mean),
`transport` (SDK loading, bounded bodies, retries), `mgmt` and `data` (one plane each),
`probe` (the plane choice).
"""

from gccheck.probes.azure.answers import (
    DATA,
    MGMT,
    PERMISSIONS,
    SAS_GRANTS,
    check_arm_answer,
    check_blob_answer,
    classify,
)
from gccheck.probes.azure.credentials import (
    AccountKey,
    TokenCredential,
    account_key,
    account_url,
    parse_connection_string,
)
from gccheck.probes.azure.mgmt import DEFAULT_ARM
from gccheck.probes.azure.probe import Probe

__all__ = ["DATA", "DEFAULT_ARM", "MGMT", "PERMISSIONS", "SAS_GRANTS", "AccountKey", "Probe",
           "TokenCredential", "account_key", "account_url", "check_arm_answer",
           "check_blob_answer", "classify", "parse_connection_string"]
