// Java side of the real-broker tests (tests/test_broker.py, pytest marker `broker`).
//
// Compiled by tests/broker_support.py against the jars that
// `mvn dependency:copy-dependencies` puts next to the broker (so the producer is
// the kafka-clients the broker itself ships), and run as
//
//   java -cp <classes>:<lib>/* BrokerHarness <command> <bootstrap> [args...]
//
// Commands (everything on stdout is machine-read; diagnostics go to stderr):
//
//   ready <bootstrap> <timeout_ms>
//       Retry an admin describeCluster until it answers; prints "ready <nodes>".
//   create-topic <bootstrap> <topic> <partitions>
//       Create a topic (replication factor 1) and wait until every partition
//       has a leader; prints "ok".
//   add-partitions <bootstrap> <topic> <total>
//       Grow a topic to <total> partitions and wait until they have leaders.
//   partitions <bootstrap> <topic>
//       Print the number of partitions of a topic.
//   produce <bootstrap> <topic> <keys-file>
//       Send one record per line of <keys-file> with the DEFAULT producer
//       configuration: only bootstrap.servers and ByteArraySerializer for the
//       key and the value are set, so the producer's built-in partitioner picks
//       the partition.  A line holds the key as lowercase hex ("" = the empty
//       key, byte[0]); a line "N" is a null key.  The value of record i is the
//       decimal string of i.  Prints "<i>\t<partition>" for every record, in
//       input order, from the RecordMetadata of its acknowledged send.
//   consume <bootstrap> <topic>
//       Read every record of every partition from the beginning up to the end
//       offsets seen at start (no consumer group), and print
//       "<partition>\t<offset>\t<key hex or N>\t<value hex or N>" per record.

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewPartitions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

public final class BrokerHarness {

    private BrokerHarness() {}

    public static void main(String[] args) throws Exception {
        if (args.length < 2) {
            usage();
        }
        String cmd = args[0];
        String bootstrap = args[1];
        switch (cmd) {
            case "ready":
                need(args, 3);
                ready(bootstrap, Long.parseLong(args[2]));
                break;
            case "create-topic":
                need(args, 4);
                createTopic(bootstrap, args[2], Integer.parseInt(args[3]));
                break;
            case "add-partitions":
                need(args, 4);
                addPartitions(bootstrap, args[2], Integer.parseInt(args[3]));
                break;
            case "partitions":
                need(args, 3);
                System.out.println(describe(bootstrap, args[2]).partitions().size());
                break;
            case "produce":
                need(args, 4);
                produce(bootstrap, args[2], args[3]);
                break;
            case "consume":
                need(args, 3);
                consume(bootstrap, args[2]);
                break;
            default:
                usage();
        }
        System.out.flush();
        // Kafka client threads are daemon threads, but be explicit.
        System.exit(0);
    }

    private static void usage() {
        System.err.println("usage: BrokerHarness ready|create-topic|add-partitions|partitions|produce|consume <bootstrap> ...");
        System.exit(2);
    }

    private static void need(String[] args, int n) {
        if (args.length != n) {
            usage();
        }
    }

    // ------------------------------------------------------------------ admin

    private static Admin admin(String bootstrap) {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "20000");
        p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "60000");
        return Admin.create(p);
    }

    private static void ready(String bootstrap, long timeoutMs) throws Exception {
        long deadline = System.currentTimeMillis() + timeoutMs;
        Exception last = null;
        try (Admin a = admin(bootstrap)) {
            while (System.currentTimeMillis() < deadline) {
                try {
                    int nodes = a.describeCluster().nodes().get().size();
                    // The broker also has to be able to answer for topics.
                    a.listTopics().names().get();
                    if (nodes > 0) {
                        System.out.println("ready " + nodes);
                        return;
                    }
                } catch (ExecutionException e) {
                    last = e;
                }
                Thread.sleep(250);
            }
        }
        System.err.println("broker not ready after " + timeoutMs + " ms: " + last);
        System.exit(1);
    }

    private static TopicDescription describe(String bootstrap, String topic) throws Exception {
        try (Admin a = admin(bootstrap)) {
            return a.describeTopics(Collections.singleton(topic)).allTopicNames().get().get(topic);
        }
    }

    /** Wait until the topic has exactly {@code total} partitions, each with a leader. */
    private static void awaitPartitions(Admin a, String topic, int total) throws Exception {
        long deadline = System.currentTimeMillis() + 60_000;
        String state = "?";
        while (System.currentTimeMillis() < deadline) {
            try {
                TopicDescription d = a.describeTopics(Collections.singleton(topic)).allTopicNames().get().get(topic);
                int withLeader = 0;
                for (TopicPartitionInfo tp : d.partitions()) {
                    if (tp.leader() != null && !tp.leader().isEmpty()) {
                        withLeader++;
                    }
                }
                state = d.partitions().size() + " partitions, " + withLeader + " with a leader";
                if (d.partitions().size() == total && withLeader == total) {
                    return;
                }
            } catch (ExecutionException e) {
                state = e.getCause().toString();
            }
            Thread.sleep(100);
        }
        System.err.println("topic " + topic + " never reached " + total + " partitions with leaders: " + state);
        System.exit(1);
    }

    private static void createTopic(String bootstrap, String topic, int partitions) throws Exception {
        try (Admin a = admin(bootstrap)) {
            a.createTopics(Collections.singleton(new NewTopic(topic, partitions, (short) 1))).all().get();
            awaitPartitions(a, topic, partitions);
        }
        System.out.println("ok");
    }

    private static void addPartitions(String bootstrap, String topic, int total) throws Exception {
        try (Admin a = admin(bootstrap)) {
            a.createPartitions(Collections.singletonMap(topic, NewPartitions.increaseTo(total))).all().get();
            awaitPartitions(a, topic, total);
        }
        System.out.println("ok");
    }

    // --------------------------------------------------------------- producer

    private static byte[] unhex(String s) {
        if (s.length() % 2 != 0) {
            throw new IllegalArgumentException("odd-length hex key: " + s);
        }
        byte[] out = new byte[s.length() / 2];
        for (int i = 0; i < out.length; i++) {
            out[i] = (byte) Integer.parseInt(s.substring(2 * i, 2 * i + 2), 16);
        }
        return out;
    }

    private static String hex(byte[] b) {
        if (b == null) {
            return "N";
        }
        StringBuilder sb = new StringBuilder(b.length * 2);
        for (byte x : b) {
            sb.append(Character.forDigit((x >> 4) & 0xf, 16)).append(Character.forDigit(x & 0xf, 16));
        }
        return sb.toString();
    }

    private static void produce(String bootstrap, String topic, String keysFile) throws Exception {
        List<String> lines = Files.readAllLines(Paths.get(keysFile), StandardCharsets.US_ASCII);
        Properties p = new Properties();
        // Deliberately nothing else: the producer's default configuration,
        // including its default (built-in) partitioner.
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        List<Future<RecordMetadata>> sent = new ArrayList<>(lines.size());
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p)) {
            for (int i = 0; i < lines.size(); i++) {
                String line = lines.get(i).trim();
                byte[] key = line.equals("N") ? null : unhex(line);
                byte[] value = Integer.toString(i).getBytes(StandardCharsets.US_ASCII);
                sent.add(producer.send(new ProducerRecord<>(topic, key, value)));
            }
            producer.flush();
            StringBuilder out = new StringBuilder(lines.size() * 8);
            for (int i = 0; i < sent.size(); i++) {
                out.append(i).append('\t').append(sent.get(i).get().partition()).append('\n');
            }
            System.out.print(out);
        }
    }

    // --------------------------------------------------------------- consumer

    private static void consume(String bootstrap, String topic) throws Exception {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "5000");
        StringBuilder out = new StringBuilder();
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(p)) {
            List<TopicPartition> tps = new ArrayList<>();
            for (PartitionInfo pi : consumer.partitionsFor(topic, Duration.ofSeconds(60))) {
                tps.add(new TopicPartition(topic, pi.partition()));
            }
            consumer.assign(tps);
            consumer.seekToBeginning(tps);
            Map<TopicPartition, Long> end = new HashMap<>(consumer.endOffsets(tps, Duration.ofSeconds(60)));
            Map<TopicPartition, Long> pos = new HashMap<>();
            for (TopicPartition tp : tps) {
                pos.put(tp, consumer.position(tp, Duration.ofSeconds(60)));
            }
            long deadline = System.currentTimeMillis() + 120_000;
            while (!caughtUp(pos, end)) {
                if (System.currentTimeMillis() > deadline) {
                    System.err.println("consumer did not reach the end offsets " + end + "; at " + pos);
                    System.exit(1);
                }
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(500))) {
                    TopicPartition tp = new TopicPartition(r.topic(), r.partition());
                    if (r.offset() >= end.get(tp)) {
                        continue;
                    }
                    out.append(r.partition()).append('\t').append(r.offset()).append('\t')
                            .append(hex(r.key())).append('\t').append(hex(r.value())).append('\n');
                }
                for (TopicPartition tp : tps) {
                    pos.put(tp, consumer.position(tp, Duration.ofSeconds(60)));
                }
            }
        }
        System.out.print(out);
    }

    private static boolean caughtUp(Map<TopicPartition, Long> pos, Map<TopicPartition, Long> end) {
        for (Map.Entry<TopicPartition, Long> e : end.entrySet()) {
            if (pos.get(e.getKey()) < e.getValue()) {
                return false;
            }
        }
        return true;
    }
}
