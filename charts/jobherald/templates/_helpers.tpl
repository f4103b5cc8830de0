{{/* The chart name, shortened to the 63 characters a label value allows. */}}
{{- define "jobherald.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
The fullname names every object, the cluster-scoped ones included, and the leader-election Lease: two
releases (or two test runs) in one cluster need different release names.
*/}}
{{- define "jobherald.fullname" -}}
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
{{- end -}}

{{- define "jobherald.selectorLabels" -}}
app.kubernetes.io/name: {{ include "jobherald.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "jobherald.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "jobherald.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "jobherald.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "jobherald.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* Namespaces whose SlackIntegrations (and Secrets) are served: default, the release namespace. */}}
{{- define "jobherald.integrationNamespaces" -}}
{{- join "," (uniq (default (list .Release.Namespace) .Values.integrationNamespaces)) -}}
{{- end -}}

{{/* Namespaces whose rules may select Jobs cluster-wide: default, the release namespace. */}}
{{- define "jobherald.clusterRuleNamespaces" -}}
{{- join "," (uniq (default (list .Release.Namespace) .Values.clusterRuleNamespaces)) -}}
{{- end -}}

{{- define "jobherald.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{/*
"true" when the chart renders the MutatingAdmissionPolicy that adds the delivery finalizer at admission, else
empty. admissionPolicy.enabled is auto (render when the cluster serves
admissionregistration.k8s.io/v1 MutatingAdmissionPolicy, as Helm's .Capabilities tell: `helm install`
asks the cluster, `helm template` needs --api-versions), true or false; finalizers.enabled: false turns it off
too, since the policy would add a finalizer nobody removes.
*/}}
{{- define "jobherald.admissionPolicy" -}}
{{- $mode := toString .Values.admissionPolicy.enabled -}}
{{- if not (has $mode (list "auto" "true" "false")) -}}
{{- fail (printf "admissionPolicy.enabled must be auto, true or false, not %q" $mode) -}}
{{- end -}}
{{- $served := .Capabilities.APIVersions.Has "admissionregistration.k8s.io/v1/MutatingAdmissionPolicy" -}}
{{- if and .Values.finalizers.enabled (or (eq $mode "true") (and (eq $mode "auto") $served)) -}}
true
{{- end -}}
{{- end -}}

{{/* The ConfigMap whose data keys are the namespaces active rules reach (the operator keeps it). */}}
{{- define "jobherald.admissionParams" -}}
{{- printf "%s-watched-namespaces" (include "jobherald.fullname" .) -}}
{{- end -}}

{{/* The MutatingAdmissionPolicy and its binding share this name. */}}
{{- define "jobherald.admissionPolicyName" -}}
{{- printf "%s-delivery-finalizer" (include "jobherald.fullname" .) -}}
{{- end -}}
