// The iam-simulate side of the differential IAM oracle (see compare.py): reads one JSON request a
// line on stdin, answers one JSON line on stdout, in order, so compare.py can keep it running.
// Request: {"id", "identity": [policy, ...], "boundary": policy|null, "action", "resource",
//           "account", "principal", "context": {key: value}}
// Answer:  {"id", "result": "Allowed" | "ExplicitlyDenied" | "ImplicitlyDenied"} or {"id", "error"}
'use strict'
const readline = require('node:readline')
const { runSimulation } = require('@cloud-copilot/iam-simulate')

async function answer(req) {
  const simulation = {
    request: {
      principal: req.principal,
      action: req.action,
      resource: { resource: req.resource, accountId: req.account },
      contextVariables: req.context || {}
    },
    identityPolicies: req.identity.map((policy, i) => ({ name: `p${i}`, policy })),
    serviceControlPolicies: [],
    resourceControlPolicies: []
  }
  if (req.boundary) {
    simulation.permissionBoundaryPolicies = [{ name: 'boundary', policy: req.boundary }]
  }
  try {
    const res = await runSimulation(simulation, { simulationMode: 'Strict' })
    if (res.resultType === 'error') {
      return { id: req.id, error: res.errors.message || JSON.stringify(res.errors) }
    }
    return { id: req.id, result: res.overallResult }
  } catch (e) {
    return { id: req.id, error: 'exception: ' + String(e && e.message ? e.message : e) }
  }
}

async function main() {
  const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity })
  const out = []
  for await (const line of rl) {
    if (!line.trim()) continue
    let req
    try {
      req = JSON.parse(line)
    } catch (e) {
      out.push(JSON.stringify({ id: null, error: 'bad request line' }))
      continue
    }
    if (req.flush) {
      // a batch ends: write what was answered so the caller can read it
      out.push(JSON.stringify({ id: req.id, flush: true }))
      process.stdout.write(out.join('\n') + '\n')
      out.length = 0
      continue
    }
    out.push(JSON.stringify(await answer(req)))
  }
  if (out.length) process.stdout.write(out.join('\n') + '\n')
}

main()
