// kwok Stage objects that make pods on the fake node behave like workloads. Pods of Jobs succeed by
// default; annotations on a Job's pod template (copied to its pods by the Job controller) change that:
//
//   kwok.jobherald.dev/duration:   "30s"      run this long before finishing (Go duration); default: at once
//   kwok.jobherald.dev/exit-code:  "137"      fail with this (non-zero) exit code instead of succeeding
//   kwok.jobherald.dev/reason:     OOMKilled  the terminated container's reason        (default: Error)
//   kwok.jobherald.dev/message:    "…"        the terminated container's message       (default: none)
//   kwok.jobherald.dev/container:  name       which container fails                    (default: every one)
//
// Only Job-owned pods finish; any other pod stays Running, as a Deployment's would.

export const POD_ANNOTATIONS = {
  duration: 'kwok.jobherald.dev/duration',
  exitCode: 'kwok.jobherald.dev/exit-code',
  reason: 'kwok.jobherald.dev/reason',
  message: 'kwok.jobherald.dev/message',
  container: 'kwok.jobherald.dev/container',
} as const;

const annotation = (key: string): string => `.metadata.annotations["${key}"]`;

const runningJobPod = [
  { key: '.metadata.deletionTimestamp', operator: 'DoesNotExist' },
  { key: '.status.phase', operator: 'In', values: ['Running'] },
  { key: '.metadata.ownerReferences.[].kind', operator: 'In', values: ['Job'] },
];

/** A container status in the terminated state (a Go-template fragment, inside `range .spec.containers`). */
const terminatedContainer = (terminated: string): string => `- image: {{ .image | Quote }}
  name: {{ .name | Quote }}
  ready: false
  started: false
  restartCount: 0
  state:
    terminated:
${terminated}
      startedAt: {{ $now | Quote }}
      finishedAt: {{ $now | Quote }}`;

const completed = '      exitCode: 0\n      reason: Completed';

/** The pod stopped (not ready any more), for `reason` PodCompleted or PodFailed. */
const stoppedConditions = (reason: string): string => `conditions:
- {lastTransitionTime: {{ $now | Quote }}, status: "False", type: Ready, reason: ${reason}}
- {lastTransitionTime: {{ $now | Quote }}, status: "False", type: ContainersReady, reason: ${reason}}`;

// Runs before finishing: the pod's own annotation, else no delay.
const runDuration = {
  durationMilliseconds: 0,
  durationFrom: { expressionFrom: annotation(POD_ANNOTATIONS.duration) },
};

const nodeInitialize = {
  apiVersion: 'kwok.x-k8s.io/v1alpha1',
  kind: 'Stage',
  metadata: { name: 'jobherald-node-initialize' },
  spec: {
    resourceRef: { apiGroup: 'v1', kind: 'Node' },
    selector: {
      matchExpressions: [
        {
          key: '.status.conditions.[] | select( .type == "Ready" ) | .status',
          operator: 'NotIn',
          values: ['True'],
        },
      ],
    },
    next: {
      statusTemplate: `{{ $now := Now }}
conditions:
{{ range NodeConditions }}
- lastHeartbeatTime: {{ $now | Quote }}
  lastTransitionTime: {{ $now | Quote }}
  message: {{ .message | Quote }}
  reason: {{ .reason | Quote }}
  status: {{ .status | Quote }}
  type: {{ .type | Quote }}
{{ end }}
addresses:
- address: {{ NodeIP | Quote }}
  type: InternalIP
- address: {{ NodeName | Quote }}
  type: Hostname
allocatable: {{ YAML .status.allocatable 1 }}
capacity: {{ YAML .status.capacity 1 }}
nodeInfo:
  architecture: amd64
  operatingSystem: linux
  kubeletVersion: {{ printf "kwok-%s" Version | Quote }}
  containerRuntimeVersion: {{ printf "kwok-%s" Version | Quote }}
phase: Running
`,
    },
  },
};

const podReady = {
  apiVersion: 'kwok.x-k8s.io/v1alpha1',
  kind: 'Stage',
  metadata: { name: 'jobherald-pod-ready' },
  spec: {
    resourceRef: { apiGroup: 'v1', kind: 'Pod' },
    selector: {
      matchExpressions: [
        { key: '.metadata.deletionTimestamp', operator: 'DoesNotExist' },
        { key: '.status.phase', operator: 'In', values: ['Pending'] },
      ],
    },
    next: {
      statusTemplate: `{{ $now := Now }}
conditions:
- {lastTransitionTime: {{ $now | Quote }}, status: "True", type: Initialized}
- {lastTransitionTime: {{ $now | Quote }}, status: "True", type: Ready}
- {lastTransitionTime: {{ $now | Quote }}, status: "True", type: ContainersReady}
- {lastTransitionTime: {{ $now | Quote }}, status: "True", type: PodScheduled}
containerStatuses:
{{ range .spec.containers }}
- image: {{ .image | Quote }}
  name: {{ .name | Quote }}
  ready: true
  started: true
  restartCount: 0
  state: {running: {startedAt: {{ $now | Quote }}}}
{{ end }}
hostIP: {{ NodeIPWith .spec.nodeName | Quote }}
podIP: {{ PodIPWith .spec.nodeName ( or .spec.hostNetwork false ) ( or .metadata.uid "" ) ( or .metadata.name "" ) ( or .metadata.namespace "" ) | Quote }}
phase: Running
startTime: {{ $now | Quote }}
`,
    },
  },
};

const podSucceed = {
  apiVersion: 'kwok.x-k8s.io/v1alpha1',
  kind: 'Stage',
  metadata: { name: 'jobherald-pod-succeed' },
  spec: {
    resourceRef: { apiGroup: 'v1', kind: 'Pod' },
    selector: {
      matchExpressions: [
        ...runningJobPod,
        { key: annotation(POD_ANNOTATIONS.exitCode), operator: 'DoesNotExist' },
      ],
    },
    delay: runDuration,
    next: {
      statusTemplate: `{{ $now := Now }}
${stoppedConditions('PodCompleted')}
containerStatuses:
{{ range .spec.containers }}
${terminatedContainer(completed)}
{{ end }}
phase: Succeeded
`,
    },
  },
};

const podFail = {
  apiVersion: 'kwok.x-k8s.io/v1alpha1',
  kind: 'Stage',
  metadata: { name: 'jobherald-pod-fail' },
  spec: {
    resourceRef: { apiGroup: 'v1', kind: 'Pod' },
    selector: {
      matchExpressions: [...runningJobPod, { key: annotation(POD_ANNOTATIONS.exitCode), operator: 'Exists' }],
    },
    delay: runDuration,
    next: {
      statusTemplate: `{{ $now := Now }}
{{ $a := .metadata.annotations }}
{{ $only := or ( index $a "${POD_ANNOTATIONS.container}" ) "" }}
${stoppedConditions('PodFailed')}
containerStatuses:
{{ range .spec.containers }}
{{ if or ( not $only ) ( eq .name $only ) }}
${terminatedContainer(`      exitCode: {{ index $a "${POD_ANNOTATIONS.exitCode}" }}
      reason: {{ or ( index $a "${POD_ANNOTATIONS.reason}" ) "Error" | Quote }}
      message: {{ or ( index $a "${POD_ANNOTATIONS.message}" ) "" | Quote }}`)}
{{ else }}
${terminatedContainer(completed)}
{{ end }}
{{ end }}
phase: Failed
`,
    },
  },
};

// A pod being deleted (Job deleted, suspended, past its deadline, or cleaned up) goes away at once,
// as if the kubelet had stopped it.
const podDelete = {
  apiVersion: 'kwok.x-k8s.io/v1alpha1',
  kind: 'Stage',
  metadata: { name: 'jobherald-pod-delete' },
  spec: {
    resourceRef: { apiGroup: 'v1', kind: 'Pod' },
    selector: { matchExpressions: [{ key: '.metadata.deletionTimestamp', operator: 'Exists' }] },
    next: { delete: true },
  },
};

export const kwokStages = [nodeInitialize, podReady, podSucceed, podFail, podDelete];
