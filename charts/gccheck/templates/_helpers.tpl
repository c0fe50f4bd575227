{{/* vim: set filetype=mustache: */}}

{{- define "gccheck.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end }}

{{- define "gccheck.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end }}

{{- define "gccheck.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/name: {{ include "gccheck.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/component: gc-readiness-check
{{- end }}

{{- define "gccheck.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "gccheck.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end }}

{{- define "gccheck.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion | toString) -}}
{{- end }}

{{/* The hosting types of gccheck's matrix.yaml (tests keep this, the schema and matrix.yaml equal). */}}
{{- define "gccheck.hostingTypes" -}}
shared-cloud shared-cloud-ssc dedicated-cloud dedicated-cloud-ssc customer-managed-cloud on-prem
{{- end }}

{{/* The hosting type, or a clear failure (the schema says so too, unless it is skipped). */}}
{{- define "gccheck.hosting" -}}
{{- $types := splitList " " (include "gccheck.hostingTypes" .) -}}
{{- $hosting := toString (.Values.hosting | default "") -}}
{{- if not $hosting -}}
{{- fail (printf "gccheck: set `hosting` (in an umbrella chart `gccheck.hosting`) to the W&B deployment's hosting type: %s" (join ", " $types)) -}}
{{- end -}}
{{- if not (has $hosting $types) -}}
{{- fail (printf "gccheck: hosting %q is not a hosting type; use one of: %s" $hosting (join ", " $types)) -}}
{{- end -}}
{{- $hosting -}}
{{- end }}

{{/*
The environment W&B's app container gets from the env maps, as a map (YAML).
Mirrors operator-wandb's app container (wandb/helm-charts charts/wandb-base/templates/
_containers.tpl, "wandb-base.containers"): the same sprig `merge` of app.containers.app.env,
app.env, app.extraEnv, global.env and global.extraEnv, in that order. The first map that sets
a name wins; like W&B, `merge` counts an empty value ("", false, 0, null) as not set, and
merges two {valueFrom: ...} maps of one name key by key.
*/}}
{{- define "gccheck.wandbEnv" -}}
{{- $global := .Values.global | default dict -}}
{{- $app := .Values.app | default dict -}}
{{- $containers := $app.containers | default dict -}}
{{- $container := $containers.app | default dict -}}
{{- $env := merge (dict)
      (deepCopy ($container.env | default dict))
      (deepCopy ($app.env | default dict))
      (deepCopy ($app.extraEnv | default dict))
      (deepCopy ($global.env | default dict))
      (deepCopy ($global.extraEnv | default dict)) -}}
{{- toYaml $env -}}
{{- end }}

{{/*
Env entries from a name -> value map, as operator-wandb writes them ("wandb-base.env"):
a map value ({valueFrom: ...}) as is, anything else as a quoted string.
*/}}
{{- define "gccheck.envEntries" -}}
{{- range $name, $value := . }}
{{- if kindIs "map" $value }}
- name: {{ $name }}
{{- toYaml $value | nindent 2 }}
{{- else }}
- name: {{ $name }}
  value: {{ toString $value | quote }}
{{- end }}
{{- end }}
{{- end }}

{{/*
The bucket operator-wandb reads ("wandb.bucket"): global.bucket when it has a name, else
global.defaultBucket. Its accessKey/secretKey are what operator-wandb writes to its bucket Secret.
*/}}
{{- define "gccheck.bucketSource" -}}
{{- $global := .Values.global | default dict -}}
{{- $bucket := $global.bucket | default dict -}}
{{- if $bucket.name -}}
{{- toYaml $bucket -}}
{{- else -}}
{{- toYaml ($global.defaultBucket | default dict) -}}
{{- end -}}
{{- end }}

{{/*
The name of the chart's own key Secret (templates/keys-secret.yaml); never operator-wandb's
"<release>-bucket", whatever the release is called.
*/}}
{{- define "gccheck.keysSecretName" -}}
{{- printf "%s-keys" (include "gccheck.fullname" . | trunc 58 | trimSuffix "-") -}}
{{- end }}

{{/*
"true" when the chart renders its own key Secret: the keys are inline and no
global.bucket.secret.secretName is set, so operator-wandb writes them to "<release>-bucket",
an ordinary resource that does not exist before the first install's hooks and, before an
upgrade's, still holds the keys of the release being upgraded.
*/}}
{{- define "gccheck.ownKeys" -}}
{{- $global := .Values.global | default dict -}}
{{- $secret := (($global.bucket | default dict).secret | default dict) -}}
{{- $source := include "gccheck.bucketSource" . | fromYaml -}}
{{- if and (empty $secret.secretName) (or $source.accessKey $source.secretKey) -}}
true
{{- end -}}
{{- end }}

{{/*
The bucket as operator-wandb sees it (wandb/helm-charts charts/operator-wandb/templates/
_bucket.tpl, "wandb.bucket" and "wandb.bucket.secret"): global.bucket when it has a name,
else global.defaultBucket; keys from the bucket Secret (global.bucket.secret.secretName, else
"<release>-bucket", which operator-wandb writes from inline accessKey/secretKey); the URL with
$(BUCKET_ACCESS_KEY):$(BUCKET_SECRET_KEY)@ for s3/cw when keys exist. W&B writes $(BUCKET_NAME)
and $(BUCKET_PATH) from its bucket ConfigMap; the hook writes the name and path themselves.
*/}}
{{- define "gccheck.bucket" -}}
{{- $global := .Values.global | default dict -}}
{{- $secret := (($global.bucket | default dict).secret | default dict) -}}
{{- $source := include "gccheck.bucketSource" . | fromYaml -}}
{{- /* An empty provider reads as s3, as in gccheck's values reader (sources/chart_bucket.py). */ -}}
{{- $provider := toString ($source.provider | default "s3") -}}
{{- $name := toString ($source.name | default "") -}}
{{- $path := toString ($source.path | default "") -}}
{{- $inlineKeys := false -}}
{{- if and $source.accessKey $source.secretKey -}}
{{- $inlineKeys = true -}}
{{- end -}}
{{- $withKeys := or $inlineKeys (not (empty $secret.secretName)) -}}
{{- $scheme := get (dict "s3" "s3" "cw" "cw" "gcs" "gs" "az" "az") $provider -}}
{{- $url := "" -}}
{{- if and $scheme $name -}}
{{- $credentials := "" -}}
{{- if and $withKeys (has $provider (list "s3" "cw")) -}}
{{- $credentials = "$(BUCKET_ACCESS_KEY):$(BUCKET_SECRET_KEY)@" -}}
{{- end -}}
{{- $url = printf "%s://%s%s" $scheme $credentials $name -}}
{{- if $path -}}
{{- $url = printf "%s/%s" $url $path -}}
{{- end -}}
{{- $url = trimSuffix "/" $url -}}
{{- end }}
provider: {{ $provider | quote }}
url: {{ $url | quote }}
region: {{ toString ($source.region | default "") | quote }}
kmsKey: {{ toString ($source.kmsKey | default "") | quote }}
secretName: {{ $secret.secretName | default (printf "%s-bucket" .Release.Name) | quote }}
accessKeyName: {{ $secret.accessKeyName | default "ACCESS_KEY" | quote }}
secretKeyName: {{ $secret.secretKeyName | default "SECRET_KEY" | quote }}
{{- end }}

{{/*
The bucket entries operator-wandb adds below the env maps ("wandb.bucketEnvs" and its bucket
ConfigMap), as an ordered list: the key variables come before BUCKET so that Kubernetes
expands $(BUCKET_ACCESS_KEY) and $(BUCKET_SECRET_KEY) in it. Keys only by secretKeyRef,
optional as in W&B. Takes (dict "root" $ "bucket" <gccheck.bucket>).
*/}}
{{- define "gccheck.bucketEntries" -}}
{{- $bucket := .bucket -}}
- name: AZURE_STORAGE_KEY
  valueFrom:
    secretKeyRef:
      name: {{ $bucket.secretName | quote }}
      key: {{ $bucket.accessKeyName | quote }}
      optional: true
- name: BUCKET_ACCESS_KEY
  valueFrom:
    secretKeyRef:
      name: {{ $bucket.secretName | quote }}
      key: {{ $bucket.accessKeyName | quote }}
      optional: true
- name: BUCKET_SECRET_KEY
  valueFrom:
    secretKeyRef:
      name: {{ $bucket.secretName | quote }}
      key: {{ $bucket.secretKeyName | quote }}
      optional: true
{{- if $bucket.url }}
- name: BUCKET
  value: {{ $bucket.url | quote }}
{{- end }}
{{- if $bucket.region }}
- name: AWS_REGION
  value: {{ $bucket.region | quote }}
{{- end }}
{{- if $bucket.kmsKey }}
- name: AWS_S3_KMS_ID
  value: {{ $bucket.kmsKey | quote }}
{{- end }}
{{- end }}

{{/*
The container's env: operator-wandb's bucket entries that no env map overrides (as
wandb-base drops its envTpls entries that `env` sets), then the env maps, rendered through
`tpl` as wandb-base does. Takes (dict "root" $ "job" BOOL): with inline keys the hook Job
reads them from the chart's own key Secret (operator-wandb's does not exist before the first
install, and holds the old keys before an upgrade); the helm test pod, run after the release,
reads operator-wandb's.
*/}}
{{- define "gccheck.env" -}}
{{- $root := .root -}}
{{- $env := include "gccheck.wandbEnv" $root | fromYaml -}}
{{- $bucket := include "gccheck.bucket" $root | fromYaml -}}
{{- if and .job (include "gccheck.ownKeys" $root) -}}
{{- $_ := set $bucket "secretName" (include "gccheck.keysSecretName" $root) -}}
{{- end -}}
{{- $entries := include "gccheck.bucketEntries" (dict "root" $root "bucket" $bucket) | fromYamlArray -}}
{{- $kept := list -}}
{{- range $entries }}
{{- if not (hasKey $env .name) }}
{{- $kept = append $kept . }}
{{- end }}
{{- end }}
{{- with $kept }}
{{ toYaml . }}
{{- end }}
{{- tpl (include "gccheck.envEntries" $env) $root }}
{{- end }}

{{/*
`gccheck check` arguments; failOn maps to --fail-on as is. Takes (dict "root" $ "live" BOOL):
live, the settings are read from the release's running W&B server workloads
(--workload <namespace>/auto) instead of the environment the chart builds.
*/}}
{{- define "gccheck.args" -}}
{{- $root := .root -}}
- check
- --hosting
- {{ include "gccheck.hosting" $root | quote }}
- --name
- {{ $root.Release.Name | quote }}
{{- if .live }}
- --workload
- {{ printf "%s/auto" $root.Release.Namespace | quote }}
{{- end }}
- --timeout
- {{ $root.Values.timeoutSeconds | int | toString | quote }}
- --fail-on
- {{ $root.Values.failOn | quote }}
- --termination-message
- /dev/termination-log
{{- range $root.Values.extraArgs }}
- {{ toString . | quote }}
{{- end }}
{{- end }}

{{/*
The check container, the same in the hook Job and the helm test pod but for the key Secret
(see "gccheck.env"). Takes (dict "root" $ "job" BOOL "live" BOOL): live (the check after the
release), it reads the running workloads and their ConfigMaps and Secrets (operator-wandb's
own, as with job: false) through the Kubernetes API, so it gets no W&B environment.
*/}}
{{- define "gccheck.container" -}}
{{- $root := .root -}}
- name: gccheck
  image: {{ include "gccheck.image" $root | quote }}
  imagePullPolicy: {{ $root.Values.image.pullPolicy }}
  args:
    {{- include "gccheck.args" (dict "root" $root "live" .live) | nindent 4 }}
  {{- if not .live }}
  env:
    {{- include "gccheck.env" . | trim | nindent 4 }}
  {{- end }}
  # The one-line verdict goes to the termination message, the full report to the log.
  terminationMessagePath: /dev/termination-log
  terminationMessagePolicy: FallbackToLogsOnError
  {{- with $root.Values.securityContext }}
  securityContext:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $root.Values.resources }}
  resources:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  volumeMounts:
    - name: tmp
      mountPath: /tmp
{{- end }}

{{/*
Pod spec fields shared by the hook Jobs and the helm test pod. Takes (dict "root" $ "job" BOOL
"live" BOOL).
*/}}
{{- define "gccheck.podSpec" -}}
{{- $root := .root -}}
restartPolicy: Never
serviceAccountName: {{ include "gccheck.serviceAccountName" $root }}
{{- if .live }}
# The check after the release reads the workloads through the Kubernetes API (the verify Role).
automountServiceAccountToken: true
{{- else }}
# gccheck reads its own environment and the bucket, never the Kubernetes API.
automountServiceAccountToken: false
{{- end }}
{{- with $root.Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $root.Values.podSecurityContext }}
securityContext:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $root.Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $root.Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $root.Values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
containers:
  {{- include "gccheck.container" . | nindent 2 }}
volumes:
  # The root filesystem is read-only; Python and the cloud SDKs may write temporary files.
  - name: tmp
    emptyDir:
      sizeLimit: 64Mi
{{- end }}

{{- define "gccheck.activeDeadlineSeconds" -}}
{{- add (.Values.timeoutSeconds | int) (.Values.startupGraceSeconds | int) -}}
{{- end }}

{{- define "gccheck.verifyName" -}}
{{- printf "%s-verify" (include "gccheck.fullname" . | trunc 56 | trimSuffix "-") -}}
{{- end }}
