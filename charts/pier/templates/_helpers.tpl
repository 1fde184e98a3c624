{{/*
Names. Kubernetes names are limited to 63 characters; every name the chart derives keeps a
suffix budget so "<fullname>-controller-leader" and friends stay valid.
*/}}
{{- define "pier.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "pier.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 36 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 36 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 36 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "pier.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "pier.controller.fullname" -}}
{{- printf "%s-controller" (include "pier.fullname" .) }}
{{- end }}

{{- define "pier.dataplane.fullname" -}}
{{- printf "%s-dataplane" (include "pier.fullname" .) }}
{{- end }}

{{/*
Labels: selectorLabels never change for the life of a release (Deployment selectors are
immutable), labels may carry versions.
*/}}
{{- define "pier.selectorLabels" -}}
app.kubernetes.io/name: {{ include "pier.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "pier.labels" -}}
helm.sh/chart: {{ include "pier.chart" . }}
{{ include "pier.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: pier
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{- define "pier.controller.selectorLabels" -}}
{{ include "pier.selectorLabels" . }}
app.kubernetes.io/component: controller
{{- end }}

{{- define "pier.controller.labels" -}}
{{ include "pier.labels" . }}
app.kubernetes.io/component: controller
{{- end }}

{{- define "pier.dataplane.selectorLabels" -}}
{{ include "pier.selectorLabels" . }}
app.kubernetes.io/component: dataplane
{{- end }}

{{- define "pier.dataplane.labels" -}}
{{ include "pier.labels" . }}
app.kubernetes.io/component: dataplane
{{- end }}

{{- define "pier.controller.serviceAccountName" -}}
{{- if .Values.controller.serviceAccount.create }}
{{- default (include "pier.controller.fullname" .) .Values.controller.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.controller.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "pier.dataplane.serviceAccountName" -}}
{{- if .Values.dataplane.serviceAccount.create }}
{{- default (include "pier.dataplane.fullname" .) .Values.dataplane.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.dataplane.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "pier.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/* gRPC channel: Secret names are the same whoever issues the certificates. */}}
{{- define "pier.grpc.controllerSecretName" -}}
{{- printf "%s-grpc-controller" (include "pier.fullname" .) }}
{{- end }}

{{- define "pier.grpc.dataplaneSecretName" -}}
{{- printf "%s-grpc-dataplane" (include "pier.fullname" .) }}
{{- end }}

{{/* DNS names the controller's certificate must cover; dataplanes dial the first .svc one. */}}
{{- define "pier.grpc.controllerDnsNames" -}}
{{- $service := include "pier.controller.fullname" . }}
{{- $ns := .Release.Namespace }}
{{- list $service (printf "%s.%s" $service $ns) (printf "%s.%s.svc" $service $ns) (printf "%s.%s.svc.%s" $service $ns .Values.clusterDomain) | toJson }}
{{- end }}

{{- define "pier.grpc.controllerAddress" -}}
{{- printf "%s.%s.svc:%d" (include "pier.controller.fullname" .) .Release.Namespace (int .Values.grpc.port) }}
{{- end }}

{{/* Where the certificates are mounted in both containers. */}}
{{- define "pier.grpc.mountPath" -}}
/etc/pier/grpc
{{- end }}

{{- define "pier.controller.leaderElect" -}}
{{- if gt (int .Values.controller.replicas) 1 }}true{{ end }}
{{- end }}

{{- define "pier.controller.leaderElectionId" -}}
{{- default (printf "%s-leader" (include "pier.controller.fullname" .)) .Values.controller.leaderElection.id }}
{{- end }}

{{- define "pier.controller.leaderElectionNamespace" -}}
{{- default .Release.Namespace .Values.controller.leaderElection.namespace }}
{{- end }}

{{- define "pier.dataplane.serviceName" -}}
{{- include "pier.dataplane.fullname" . }}
{{- end }}

{{/*
The pod must outlive preStop plus the drain, or the kubelet SIGKILLs tunnels that are still
being closed with 1001. A too-small explicit value is refused rather than silently cutting the
drain short.
*/}}
{{- define "pier.dataplane.terminationGracePeriodSeconds" -}}
{{- $needed := add .Values.dataplane.preStopSleepSeconds .Values.dataplane.drainTimeoutSeconds }}
{{- if kindIs "invalid" .Values.dataplane.terminationGracePeriodSeconds }}
{{- add $needed 10 }}
{{- else if lt (int .Values.dataplane.terminationGracePeriodSeconds) (int $needed) }}
{{- fail (printf "dataplane.terminationGracePeriodSeconds (%d) must be at least preStopSleepSeconds + drainTimeoutSeconds (%d)" (int .Values.dataplane.terminationGracePeriodSeconds) (int $needed)) }}
{{- else }}
{{- .Values.dataplane.terminationGracePeriodSeconds }}
{{- end }}
{{- end }}

{{/* Prometheus Operator objects render only where their CRDs are served. */}}
{{- define "pier.monitoringApiAvailable" -}}
{{- if .Capabilities.APIVersions.Has "monitoring.coreos.com/v1" }}true{{ end }}
{{- end }}
