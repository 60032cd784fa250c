//! Runs the `kafka` crate's (kafka-rust) `DefaultPartitioner` over the
//! fastpart conformance corpus.
//!
//! Usage: rust-harness CORPUS COUNTS   (COUNTS = comma-separated partition counts)
//!
//! Prints `kafka:DefaultPartitioner\t<n>\t<v1>,...` per count and
//! `hash:xxh32\t0\t...` (the crate's `producer::DefaultHasher`, i.e. the hasher
//! `DefaultPartitioner` is built with).
//!
//! How the real partitioner is reached: `Partitioner::partition` takes a
//! `Topics` value, which only the crate's `Producer` can build from broker
//! metadata (`Topics::new` and the fields of `Partitions` are private). This
//! harness builds a `Partitions` through a struct with the same fields in the
//! same order (`available_ids: Vec<i32>, num_all_partitions: u32`, kafka 0.10.0
//! `src/producer.rs`) and a `Topics` from a reference to the map, then checks
//! through the crate's public accessors (`num_all`, `available_ids`) that the
//! crate reads back exactly what was written before using it.
//!
//! How a record's key is handed over: `Producer::send_all` builds the
//! `ProduceMessage` with `key: to_option(rec.key.as_bytes())`, where
//! `to_option` maps an empty slice to `None` (the crate has no separate null
//! key: a record without a key has the empty key `()`). The harness does the
//! same for corpus keys, null and empty alike.
//!
//! For n = 2147483647 the partition list `available_ids` (used only for
//! keyless records: round robin `available_ids[cntr % len]` from cntr = 0)
//! holds the first 2^20 partitions, as if the others had no leader; keyed
//! records use `num_all` only. With far fewer than 2^20 keyless records in
//! the corpus, the round robin gives the same answers as a full list.
use std::collections::HashMap;
use std::hash::{BuildHasher, BuildHasherDefault, Hasher};
use std::io::{BufWriter, Write};
use std::mem;

use kafka::client::ProduceMessage;
use kafka::producer::{DefaultHasher, DefaultPartitioner, Partitioner, Partitions, Topics};

const TOPIC: &str = "t";
const AVAILABLE_MAX: u32 = 1 << 20;

/// Same fields, same order, same types as `kafka::producer::Partitions`.
#[allow(dead_code)]
struct PartitionsMirror {
    available_ids: Vec<i32>,
    num_all_partitions: u32,
}

fn partitions(n: u32) -> Partitions {
    assert_eq!(mem::size_of::<PartitionsMirror>(), mem::size_of::<Partitions>());
    assert_eq!(mem::align_of::<PartitionsMirror>(), mem::align_of::<Partitions>());
    let avail: Vec<i32> = (0..n.min(AVAILABLE_MAX) as i32).collect();
    let expected = avail.clone();
    let mirror = PartitionsMirror { available_ids: avail, num_all_partitions: n };
    // SAFETY: identical field lists; checked through the public accessors below.
    let p: Partitions = unsafe { mem::transmute(mirror) };
    if p.num_all() != n || p.available_ids() != &expected[..] {
        fail("kafka::producer::Partitions layout differs from the mirror struct");
    }
    p
}

fn topics(map: &HashMap<String, Partitions>) -> Topics<'_> {
    // SAFETY: `Topics<'a>` is a struct whose only field is
    // `partitions: &'a HashMap<String, Partitions>`; checked in `main`.
    unsafe { mem::transmute::<&HashMap<String, Partitions>, Topics<'_>>(map) }
}

fn fail(msg: &str) -> ! {
    eprintln!("rust harness: {msg}");
    std::process::exit(1)
}

fn read_corpus(path: &str) -> Vec<Option<Vec<u8>>> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| fail(&format!("{path}: {e}")));
    text.lines()
        .enumerate()
        .map(|(i, line)| match line.as_bytes().first() {
            Some(b'N') if line.len() == 1 => None,
            Some(b'K') => Some(decode_hex(&line[1..]).unwrap_or_else(|| fail(&format!("corpus line {} is malformed", i + 1)))),
            _ => fail(&format!("corpus line {} is malformed", i + 1)),
        })
        .collect()
}

fn decode_hex(s: &str) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 {
        return None;
    }
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok()).collect()
}

/// `Producer::send_all`'s `to_option`: the empty key is no key.
fn key_as_sent(key: &Option<Vec<u8>>) -> Option<&[u8]> {
    match key {
        Some(k) if !k.is_empty() => Some(k.as_slice()),
        _ => None,
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 3 {
        fail("usage: rust-harness CORPUS COUNTS");
    }
    let keys = read_corpus(&args[1]);
    let counts: Vec<u32> = args[2]
        .split(',')
        .map(|s| s.parse().ok().filter(|&n| n >= 1 && n <= i32::MAX as u32).unwrap_or_else(|| fail(&format!("bad count {s}"))))
        .collect();
    eprintln!("crate kafka 0.10.0 (kafka::producer::DefaultPartitioner)");

    let stdout = std::io::stdout();
    let mut out = BufWriter::with_capacity(1 << 20, stdout.lock());
    for &n in &counts {
        let mut map = HashMap::new();
        map.insert(TOPIC.to_string(), partitions(n));
        {
            let t = topics(&map);
            match t.partitions(TOPIC) {
                Some(p) if p.num_all() == n => {}
                _ => fail("kafka::producer::Topics layout check failed"),
            }
        }
        let mut partitioner: DefaultPartitioner = DefaultPartitioner::default();
        write!(out, "kafka:DefaultPartitioner\t{n}\t").unwrap();
        for (i, key) in keys.iter().enumerate() {
            let mut msg = ProduceMessage { key: key_as_sent(key), value: None, topic: TOPIC, partition: -1 };
            partitioner.partition(topics(&map), &mut msg);
            if i > 0 {
                out.write_all(b",").unwrap();
            }
            write!(out, "{}", msg.partition).unwrap();
        }
        out.write_all(b"\n").unwrap();
    }
    // The crate's hasher on the raw corpus bytes (the empty key included).
    let build = BuildHasherDefault::<DefaultHasher>::default();
    out.write_all(b"hash:xxh32\t0\t").unwrap();
    for (i, key) in keys.iter().enumerate() {
        if i > 0 {
            out.write_all(b",").unwrap();
        }
        match key {
            None => out.write_all(b"x").unwrap(),
            Some(k) => {
                let mut h = build.build_hasher();
                h.write(k);
                write!(out, "{}", h.finish() as u32).unwrap();
            }
        }
    }
    out.write_all(b"\n").unwrap();
    out.flush().unwrap();
}
