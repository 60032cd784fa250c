'use strict'
// Runs the real kafkajs partitioners over the fastpart conformance corpus.
//
// Usage: node harness.js CORPUS COUNTS   (COUNTS = comma-separated partition counts)
//
// Prints "<label>\t<n>\t<v1>,<v2>,..." per partitioner and partition count
// (see tests/conformance_support.py), plus "hash:murmur2\t0\t..." from the
// murmur2 module that kafkajs' DefaultPartitioner uses. Nothing here
// re-implements kafkajs: every value is the return value of a kafkajs function.
const fs = require('fs')
const { Partitioners } = require('kafkajs')
const kafkajsPackage = require('kafkajs/package.json')
// The hash DefaultPartitioner is built from (kafkajs has no "exports" map,
// so the module path is reachable as is).
const murmur2 = require('kafkajs/src/producer/partitioners/default/murmur2')

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

function main() {
  const [corpusPath, countsArg] = process.argv.slice(2)
  if (!corpusPath || !countsArg) fail('usage: node harness.js CORPUS COUNTS')
  const keys = readCorpus(corpusPath)
  const counts = countsArg.split(',').map(Number)
  process.stderr.write(`module kafkajs ${kafkajsPackage.version}\n`)

  const partitioners = [
    ['kafkajs:DefaultPartitioner', Partitioners.DefaultPartitioner],
    ['kafkajs:LegacyPartitioner', Partitioners.LegacyPartitioner],
  ]
  const out = []
  const vals = new Array(keys.length)
  for (const [label, create] of partitioners) {
    for (const n of counts) {
      if (!Number.isInteger(n) || n < 1) fail(`bad partition count ${n}`)
      const partitionMetadata = metadataFor(n)
      const partition = create() // fresh per-topic state, as a new producer has
      for (let i = 0; i < keys.length; i++) {
        const message = { key: keys[i], value: null }
        vals[i] = partition({ topic: TOPIC, partitionMetadata, message })
      }
      out.push(`${label}\t${n}\t${vals.join(',')}\n`)
    }
  }
  for (let i = 0; i < keys.length; i++) vals[i] = keys[i] === null ? 'x' : murmur2(keys[i])
  out.push(`hash:murmur2\t0\t${vals.join(',')}\n`)
  fs.writeSync(1, out.join(''))
}

main()
