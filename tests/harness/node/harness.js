'use strict'
// Runs the real kafkajs partitioners over the fastpart conformance corpus.
//
// Usage: node harness.js CORPUS COUNTS   (COUNTS = comma-separated partition counts)
//
// Prints "<label>\t<n>\t<v1>,<v2>,..." per partitioner and partition count
// (see tests/conformance_support.py), plus "hash:murmur2\t0\t..." and
// "hash:kafkajs-legacy-murmur2\t0\t..." from the murmur2 modules that
// DefaultPartitioner and LegacyPartitioner are built from (signed 32-bit, as
// kafkajs returns them; "x" for a null key). Nothing here
// re-implements kafkajs: every value is the return value of a kafkajs function.
const fs = require('fs')
const os = require('os')
const { Worker, isMainThread, parentPort, workerData } = require('worker_threads')
const { Partitioners } = require('kafkajs')
const kafkajsPackage = require('kafkajs/package.json')
// The hashes the two partitioners are built from (kafkajs has no "exports"
// map, so the module paths are reachable as they are).
const HASHES = {
  'hash:murmur2': require('kafkajs/src/producer/partitioners/default/murmur2'),
  'hash:kafkajs-legacy-murmur2': require('kafkajs/src/producer/partitioners/legacy/murmur2'),
}

const TOPIC = 't'

function fail(msg) {
  process.stderr.write(`node harness: ${msg}\n`)
  process.exit(1)
}

function readCorpus(path) {
  const lines = fs.readFileSync(path, 'ascii').split('\n')
  if (lines[lines.length - 1] === '') lines.pop()
  return lines.map((line, i) => {
    if (line === 'N') return null
    if (line[0] === 'K') return Buffer.from(line.slice(1), 'hex')
    return fail(`corpus line ${i + 1} is malformed: ${line}`)
  })
}

function partitionMeta(i) {
  // What kafkajs' cluster metadata holds for a partition with a leader.
  return { partitionErrorCode: 0, partitionId: i, leader: 0, replicas: [0], isr: [0], offlineReplicas: [] }
}

// Largest n for which a real array of partition metadata is built.
const REAL_ARRAY_MAX = 1 << 20

// For n = 2147483647 a real metadata array cannot exist (JS arrays stop at
// 2^32 - 1 elements, and 2^31 objects would not fit in memory). kafkajs'
// partitioners (src/producer/partitioners/legacy/partitioner.js) only read
// partitionMetadata.length, call partitionMetadata.filter(p => p.leader >= 0)
// and index the filtered result. This view materialises partition i's
// metadata when index i is read. Every partition here has a leader, so the
// real filter would keep all of them: the filtered view has the same length
// and checks the predicate on every element it hands out (and on the first
// and last partition up front), throwing if it would have been dropped. Any
// other use of the array throws, so a kafkajs change would not go unnoticed.
function lazyPartitionMetadata(n, predicates = []) {
  const element = i => {
    const m = partitionMeta(i)
    for (const pred of predicates) {
      if (!pred(m, i)) throw new Error(`lazy partition metadata: partition ${i} would be filtered out`)
    }
    return m
  }
  return new Proxy(Object.create(null), {
    get(_, prop) {
      if (prop === 'length') return n
      if (prop === 'filter') {
        return pred => {
          const view = lazyPartitionMetadata(n, predicates.concat([pred]))
          view[0]
          view[n - 1]
          return view
        }
      }
      if (typeof prop === 'string' && /^(0|[1-9][0-9]*)$/.test(prop)) {
        const i = Number(prop)
        return i < n ? element(i) : undefined
      }
      throw new Error(`lazy partition metadata: unsupported use .${String(prop)}`)
    },
  })
}

function metadataFor(n) {
  if (n > REAL_ARRAY_MAX) return lazyPartitionMetadata(n)
  return Array.from({ length: n }, (_, i) => partitionMeta(i))
}

function runTask(keys, label, n) {
  const create = PARTITIONERS[label]
  const partitionMetadata = metadataFor(n)
  const partition = create() // fresh per-topic state, as a new producer has
  const vals = new Array(keys.length)
  for (let i = 0; i < keys.length; i++) {
    const message = { key: keys[i], value: null }
    vals[i] = partition({ topic: TOPIC, partitionMetadata, message })
  }
  return `${label}\t${n}\t${vals.join(',')}\n`
}

function hashTask(keys, label) {
  const hash = HASHES[label]
  const vals = keys.map(k => (k === null ? 'x' : hash(k)))
  return `${label}\t0\t${vals.join(',')}\n`
}

const PARTITIONERS = {
  'kafkajs:DefaultPartitioner': Partitioners.DefaultPartitioner,
  'kafkajs:LegacyPartitioner': Partitioners.LegacyPartitioner,
}

// Tasks (one partitioner and count each) are spread over worker threads:
// DefaultPartitioner's BigInt murmur2 takes seconds per pass over the corpus.
function main() {
  const [corpusPath, countsArg] = process.argv.slice(2)
  if (!corpusPath || !countsArg) fail('usage: node harness.js CORPUS COUNTS')
  const counts = countsArg.split(',').map(Number)
  for (const n of counts) if (!Number.isInteger(n) || n < 1) fail(`bad partition count ${countsArg}`)
  process.stderr.write(`module kafkajs ${kafkajsPackage.version}\n`)

  const tasks = []
  for (const label of Object.keys(PARTITIONERS)) for (const n of counts) tasks.push([label, n])
  for (const label of Object.keys(HASHES)) tasks.push([label, 0])
  const results = new Array(tasks.length)
  const nWorkers = Math.max(1, Math.min(Number(process.env.HARNESS_WORKERS) || os.cpus().length, 4, tasks.length))
  let next = 0
  let running = 0
  const startWorker = () => {
    const worker = new Worker(__filename, { workerData: { corpusPath } })
    running++
    const feed = () => {
      if (next < tasks.length) {
        const id = next++
        worker.postMessage({ id, task: tasks[id] })
      } else {
        worker.postMessage(null)
      }
    }
    worker.on('message', ({ id, line }) => {
      results[id] = line
      feed()
    })
    worker.on('error', err => fail(err && err.stack ? err.stack : String(err)))
    worker.on('exit', code => {
      if (code !== 0) fail(`worker exited with ${code}`)
      if (--running === 0) process.stdout.write(results.join(''))
    })
    feed()
  }
  for (let w = 0; w < nWorkers; w++) startWorker()
}

function workerMain() {
  const keys = readCorpus(workerData.corpusPath)
  parentPort.on('message', msg => {
    if (msg === null) {
      parentPort.close()
      return
    }
    const [label, n] = msg.task
    const line = label in HASHES ? hashTask(keys, label) : runTask(keys, label, n)
    parentPort.postMessage({ id: msg.id, line })
  })
}

if (isMainThread) main()
else workerMain()
