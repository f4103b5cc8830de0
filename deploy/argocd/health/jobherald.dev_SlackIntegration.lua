-- Argo CD health check for jobherald.dev/SlackIntegration (argocd-cm key:
-- resource.customizations.health.jobherald.dev_SlackIntegration; docs/gitops-health.md).
--
-- The status follows kstatus (sigs.k8s.io/cli-utils/pkg/kstatus): status.observedGeneration, Ready as the
-- summary, and the abnormal-true conditions Reconciling and Stalled, present only while True. The operator
-- writes them together (src/api/conditions.ts summarizeReady), so this script reads the same verdict that
-- kstatus, Flux and `kubectl wait --for=condition=Ready` read:
--   generation not observed yet    -> Progressing  (kstatus InProgress)
--   Stalled=True                   -> Degraded     (Failed: a human must act, e.g. SecretNotFound)
--   Reconciling=True               -> Progressing  (InProgress: first reconcile, or a transient error retried)
--   Ready=True, reason Suspended   -> Suspended    (Current: configuration accepted, nothing is sent)
--   Ready=True                     -> Healthy      (Current)
-- Suspension is read after the generation and Stalled checks, so a suspended integration whose Secret is
-- missing shows Degraded, as kstatus shows it Failed.
--
-- Argo CD runs custom checks without Lua's string library (unless resource.customizations.useOpenLibs is
-- set), so this script uses only the base and table functions and the `..` operator.
local hs = {}

local function find(conditions, conditionType)
  for _, c in ipairs(conditions) do
    if c.type == conditionType then
      return c
    end
  end
  return nil
end

-- "Reason: message" of a condition: the reason to alert on, the message to act on.
local function describe(c)
  local reason = c.reason or ""
  local message = c.message or ""
  if reason == "" then
    return message
  end
  if message == "" then
    return reason
  end
  return reason .. ": " .. message
end

local status = obj.status
if status == nil or status.conditions == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to report status"
  return hs
end

local generation = obj.metadata.generation
if generation ~= nil and status.observedGeneration ~= nil and status.observedGeneration ~= generation then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to observe generation " .. generation ..
    " (status is for generation " .. status.observedGeneration .. ")"
  return hs
end

local ready = find(status.conditions, "Ready")
local stalled = find(status.conditions, "Stalled")
if stalled ~= nil and stalled.status == "True" then
  hs.status = "Degraded"
  hs.message = describe(stalled)
  return hs
end

local reconciling = find(status.conditions, "Reconciling")
if reconciling ~= nil and reconciling.status == "True" then
  hs.status = "Progressing"
  -- Ready carries the cause of a retry (e.g. SlackUnavailable); Reconciling only says Retrying.
  if ready ~= nil and ready.status == "False" then
    hs.message = describe(ready)
  else
    hs.message = describe(reconciling)
  end
  return hs
end

if ready == nil or ready.status == "Unknown" then
  hs.status = "Progressing"
  if ready ~= nil then
    hs.message = describe(ready)
  else
    hs.message = "Waiting for the Ready condition"
  end
  return hs
end

if ready.status == "True" then
  if ready.reason == "Suspended" or (obj.spec ~= nil and obj.spec.suspend == true) then
    hs.status = "Suspended"
  else
    hs.status = "Healthy"
  end
  hs.message = describe(ready)
  return hs
end

-- Ready=False with neither Reconciling nor Stalled: jobherald never writes this (a transient problem goes
-- with Reconciling=True, a lasting one with Stalled=True), so nothing is working on it.
hs.status = "Degraded"
hs.message = describe(ready)
return hs
