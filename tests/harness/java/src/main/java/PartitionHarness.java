/*
 * PartitionHarness -- runs the REAL kafka-clients code for fastpart's conformance suite.
 *
 * One source file that compiles and runs against every kafka-clients version the suite
 * proves (0.11 .. 4.x): classes and methods that exist only in some versions are looked
 * up by reflection.  tests/harness/java_harness.py builds it (pom.xml beside this
 * directory) and runs it; tests/test_conformance_java.py compares the answers with fastpart.
 *
 * Usage:  java -cp <classes>:<lib>/* PartitionHarness <mode> ...
 *
 * Mode `info`
 *     Prints "<name>\t<value>" lines: version (the kafka-clients version actually on the
 *     classpath), builtin / default (yes|no: whether BuiltInPartitioner.partitionForKey /
 *     DefaultPartitioner exist) and one "serializer:<Type>\tyes|no" line per serializer.
 *
 * Mode `partitions <corpus-file> <n1,n2,...>`
 *     <corpus-file>: the conformance corpus, one record per line: "N" = null key,
 *     "K<hex>" = key bytes as lowercase hex ("K" alone = the empty, non-null key).
 *     Prints, in the harness format of tests/conformance_support.py
 *     ("<label>\t<n>\t<v1>,<v2>,...", one value per corpus record, "x" for a null key):
 *       hash:murmur2   0    Utils.murmur2(key) as the signed Java int.
 *       java:partition <n>  for every n given:
 *           kafka-clients 3.3+ : BuiltInPartitioner.partitionForKey(key, n), the code the
 *                                producer runs for keyed records.
 *           older versions     : DefaultPartitioner.partition(...) against a Cluster that
 *                                really has n partitions, for n <= REAL_CLUSTER_MAX; for larger
 *                                n (up to 2147483647, which no Cluster object can hold) the
 *                                expression that DefaultPartitioner evaluates for a keyed
 *                                record, Utils.toPositive(Utils.murmur2(key)) % n.
 *       java:default   <n>  only in versions that have BOTH (3.3 .. 3.9): the deprecated
 *                           DefaultPartitioner too, for n <= REAL_CLUSTER_MAX.
 *     Null keys are printed as "x" (keyless records are not deterministic in Java).
 *
 * Mode `serde <values-file>`
 *     <values-file>: one value per line, "<type>\t<value>":
 *       int16 | int32 | int64   decimal ("-32768", "42")
 *       float32                 "0x" + 8 hex digits: the raw IEEE-754 bits, so NaN payloads
 *                               survive (Float.intBitsToFloat).  Also accepted: "0x" + 16 hex
 *                               digits = double bits, narrowed with a Java (float) cast.
 *       float64                 "0x" + 16 hex digits: the raw IEEE-754 bits (Double.longBitsToDouble)
 *       uuid                    canonical form ("123e4567-e89b-12d3-a456-426614174000")
 *       string                  the UTF-16 code units as hex, separated by "." ("d83d.de00"),
 *                               so unpaired surrogates can be expressed; empty = "".
 *     Prints one line per input line, "<type>\t<hex>": the lowercase hex of the bytes the real
 *     Short/Integer/Long/Float/Double/UUID/StringSerializer return from serialize("t", value)
 *     (empty hex for zero bytes), or "<type>\tx" when this kafka-clients version has no such
 *     serializer (UUIDSerializer is 2.1+).
 *
 * All output is buffered (one write per output line); a 100,000-key corpus x 8 counts takes about
 * a second.  Bad input or a failure: a message or stack trace on stderr and a non-zero exit status.
 */

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.UUID;

import org.apache.kafka.common.Cluster;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.common.utils.Utils;

public final class PartitionHarness {

    /** Largest partition count for which a real Cluster object is built. */
    static final int REAL_CLUSTER_MAX = 100_000;

    static final String TOPIC = "t";
    static final String SERDE_PKG = "org.apache.kafka.common.serialization.";
    static final String[][] SERIALIZERS = {
        {"int16", "ShortSerializer"},
        {"int32", "IntegerSerializer"},
        {"int64", "LongSerializer"},
        {"float32", "FloatSerializer"},
        {"float64", "DoubleSerializer"},
        {"uuid", "UUIDSerializer"},
        {"string", "StringSerializer"},
    };
    static final char[] HEX = "0123456789abcdef".toCharArray();

    public static void main(String[] args) throws Throwable {
        Writer out = new BufferedWriter(new OutputStreamWriter(System.out, StandardCharsets.UTF_8), 1 << 16);
        try {
            if (args.length == 1 && args[0].equals("info")) {
                info(out);
            } else if (args.length == 3 && args[0].equals("partitions")) {
                partitions(out, args[1], parseCounts(args[2]));
            } else if (args.length == 2 && args[0].equals("serde")) {
                serde(out, args[1]);
            } else {
                System.err.println("usage: PartitionHarness info | partitions <corpus> <n1,n2,...> | serde <values-file>");
                System.exit(2);
            }
        } finally {
            out.flush();
        }
    }

    // ------------------------------------------------------------------ info

    static void info(Writer out) throws IOException {
        out.write("version\t" + kafkaVersion() + "\n");
        out.write("builtin\t" + (builtInPartitioner() != null ? "yes" : "no") + "\n");
        out.write("default\t" + (findClass("org.apache.kafka.clients.producer.internals.DefaultPartitioner") != null ? "yes" : "no") + "\n");
        for (String[] s : SERIALIZERS) {
            out.write("serializer:" + s[0] + "\t" + (findClass(SERDE_PKG + s[1]) != null ? "yes" : "no") + "\n");
        }
    }

    static String kafkaVersion() {
        // AppInfoParser moved to ...common.utils.internals in 4.4; the properties file it reads
        // has stayed at /kafka/kafka-version.properties.
        for (String name : new String[] {"org.apache.kafka.common.utils.AppInfoParser",
                                         "org.apache.kafka.common.utils.internals.AppInfoParser"}) {
            Class<?> c = findClass(name);
            if (c != null) {
                try {
                    return String.valueOf(c.getMethod("getVersion").invoke(null));
                } catch (ReflectiveOperationException e) {
                    // try the next way
                }
            }
        }
        try (java.io.InputStream in = Utils.class.getResourceAsStream("/kafka/kafka-version.properties")) {
            if (in != null) {
                java.util.Properties props = new java.util.Properties();
                props.load(in);
                return props.getProperty("version", "unknown").trim();
            }
        } catch (IOException e) {
            // fall through
        }
        return "unknown";
    }

    static Class<?> findClass(String name) {
        try {
            return Class.forName(name);
        } catch (ClassNotFoundException | LinkageError e) {
            return null;
        }
    }

    /** BuiltInPartitioner.partitionForKey(byte[], int) as a (byte[],int)int handle, or null before 3.3. */
    static MethodHandle builtInPartitioner() {
        Class<?> c = findClass("org.apache.kafka.clients.producer.internals.BuiltInPartitioner");
        if (c == null) {
            return null;
        }
        try {
            Method m = c.getMethod("partitionForKey", byte[].class, int.class);
            return MethodHandles.publicLookup().unreflect(m);
        } catch (ReflectiveOperationException e) {
            return null;
        }
    }

    // ------------------------------------------------------------------ partitions

    static int[] parseCounts(String s) {
        String[] parts = s.split(",");
        int[] counts = new int[parts.length];
        for (int i = 0; i < parts.length; i++) {
            counts[i] = Integer.parseInt(parts[i].trim());
            if (counts[i] < 1) {
                throw new IllegalArgumentException("partition count must be >= 1: " + parts[i]);
            }
        }
        return counts;
    }

    static List<byte[]> readCorpus(String path) throws IOException {
        List<String> lines = Files.readAllLines(Paths.get(path), StandardCharsets.US_ASCII);
        List<byte[]> keys = new ArrayList<>(lines.size());
        for (int ln = 0; ln < lines.size(); ln++) {
            String line = lines.get(ln);
            if (line.equals("N")) {
                keys.add(null);
            } else if (line.startsWith("K") && (line.length() & 1) == 1) {
                byte[] k = new byte[(line.length() - 1) / 2];
                for (int i = 0; i < k.length; i++) {
                    k[i] = (byte) ((hexDigit(line.charAt(1 + 2 * i)) << 4) | hexDigit(line.charAt(2 + 2 * i)));
                }
                keys.add(k);
            } else if (!line.isEmpty() || ln != lines.size() - 1) {
                throw new IllegalArgumentException("corpus line " + (ln + 1) + " is malformed");
            }
        }
        return keys;
    }

    static int hexDigit(char c) {
        int d = Character.digit(c, 16);
        if (d < 0) {
            throw new IllegalArgumentException("bad hex digit " + c);
        }
        return d;
    }

    /** The old producer path: DefaultPartitioner.partition against a Cluster with n partitions. */
    static final class OldDefaultPartitioner {
        final Object instance;
        final Method partition;

        OldDefaultPartitioner(Class<?> cls) throws ReflectiveOperationException {
            instance = cls.getConstructor().newInstance();
            partition = cls.getMethod("partition", String.class, Object.class, byte[].class,
                    Object.class, byte[].class, Cluster.class);
        }

        int partition(byte[] key, Cluster cluster) throws ReflectiveOperationException {
            // The producer passes the original key object and the serialized bytes; a keyed record's
            // partition depends only on the bytes.
            return (Integer) partition.invoke(instance, TOPIC, key, key, null, null, cluster);
        }
    }

    static Cluster clusterWith(int n) {
        Node leader = new Node(0, "localhost", 9092);
        Node[] replicas = {leader};
        List<PartitionInfo> parts = new ArrayList<>(n);
        for (int p = 0; p < n; p++) {
            parts.add(new PartitionInfo(TOPIC, p, leader, replicas, replicas));
        }
        return new Cluster("fastpart-conformance", Collections.singletonList(leader), parts,
                Collections.<String>emptySet(), Collections.<String>emptySet());
    }

    static void partitions(Writer out, String corpusPath, int[] counts) throws Throwable {
        List<byte[]> keys = readCorpus(corpusPath);
        int size = keys.size();
        int[] hashes = new int[size];
        StringBuilder sb = new StringBuilder(size * 12);

        sb.append("hash:murmur2\t0\t");
        for (int i = 0; i < size; i++) {
            if (i > 0) sb.append(',');
            byte[] k = keys.get(i);
            if (k == null) {
                sb.append('x');
            } else {
                hashes[i] = Utils.murmur2(k);
                sb.append(hashes[i]);
            }
        }
        sb.append('\n');
        out.append(sb);

        MethodHandle builtIn = builtInPartitioner();
        Class<?> dpClass = findClass("org.apache.kafka.clients.producer.internals.DefaultPartitioner");
        OldDefaultPartitioner dp = dpClass == null ? null : new OldDefaultPartitioner(dpClass);
        if (builtIn == null && dp == null) {
            throw new IllegalStateException("neither BuiltInPartitioner nor DefaultPartitioner found");
        }

        for (int n : counts) {
            sb.setLength(0);
            sb.append("java:partition\t").append(n).append('\t');
            Cluster cluster = (builtIn == null && n <= REAL_CLUSTER_MAX) ? clusterWith(n) : null;
            for (int i = 0; i < size; i++) {
                if (i > 0) sb.append(',');
                byte[] k = keys.get(i);
                if (k == null) {
                    sb.append('x');
                } else if (builtIn != null) {
                    sb.append((int) builtIn.invokeExact(k, n));
                } else if (cluster != null) {
                    sb.append(dp.partition(k, cluster));
                } else {
                    // n too large for a Cluster object: what DefaultPartitioner computes for a keyed
                    // record, evaluated with the version's own Utils.
                    sb.append(Utils.toPositive(Utils.murmur2(k)) % n);
                }
            }
            sb.append('\n');
            out.append(sb);

            if (builtIn != null && dp != null && n <= REAL_CLUSTER_MAX) {
                cluster = clusterWith(n);
                sb.setLength(0);
                sb.append("java:default\t").append(n).append('\t');
                for (int i = 0; i < size; i++) {
                    if (i > 0) sb.append(',');
                    byte[] k = keys.get(i);
                    if (k == null) {
                        sb.append('x');
                    } else {
                        sb.append(dp.partition(k, cluster));
                    }
                }
                sb.append('\n');
                out.append(sb);
            }
        }
    }

    // ------------------------------------------------------------------ serde

    @SuppressWarnings("unchecked")
    static Serializer<Object> serializer(String className) throws ReflectiveOperationException {
        Class<?> c = findClass(SERDE_PKG + className);
        return c == null ? null : (Serializer<Object>) c.getConstructor().newInstance();
    }

    static void serde(Writer out, String valuesPath) throws Exception {
        List<String> lines = Files.readAllLines(Paths.get(valuesPath), StandardCharsets.UTF_8);
        java.util.Map<String, Serializer<Object>> sers = new java.util.HashMap<>();
        java.util.Set<String> missing = new java.util.HashSet<>();
        for (String[] s : SERIALIZERS) {
            Serializer<Object> ser = serializer(s[1]);
            if (ser == null) {
                missing.add(s[0]);
            } else {
                sers.put(s[0], ser);
            }
        }
        StringBuilder sb = new StringBuilder();
        for (int ln = 0; ln < lines.size(); ln++) {
            String line = lines.get(ln);
            if (line.isEmpty() && ln == lines.size() - 1) {
                break;
            }
            int tab = line.indexOf('\t');
            if (tab < 0) {
                throw new IllegalArgumentException("values line " + (ln + 1) + " has no tab");
            }
            String type = line.substring(0, tab);
            String text = line.substring(tab + 1);
            sb.setLength(0);
            sb.append(type).append('\t');
            if (missing.contains(type)) {
                sb.append('x');
            } else {
                Serializer<Object> ser = sers.get(type);
                if (ser == null) {
                    throw new IllegalArgumentException("values line " + (ln + 1) + ": unknown type " + type);
                }
                byte[] bytes = ser.serialize(TOPIC, parseValue(type, text));
                for (byte b : bytes) {
                    sb.append(HEX[(b >> 4) & 0xf]).append(HEX[b & 0xf]);
                }
            }
            sb.append('\n');
            out.append(sb);
        }
    }

    static long parseBits(String text, int digits) {
        if (!text.startsWith("0x") || text.length() != 2 + digits) {
            throw new IllegalArgumentException("expected 0x + " + digits + " hex digits: " + text);
        }
        return Long.parseUnsignedLong(text.substring(2), 16);
    }

    static Object parseValue(String type, String text) {
        switch (type) {
            case "int16":
                return Short.valueOf(Short.parseShort(text));
            case "int32":
                return Integer.valueOf(Integer.parseInt(text));
            case "int64":
                return Long.valueOf(Long.parseLong(text));
            case "float32":
                if (text.length() == 2 + 16) {
                    return Float.valueOf((float) Double.longBitsToDouble(parseBits(text, 16)));
                }
                return Float.valueOf(Float.intBitsToFloat((int) parseBits(text, 8)));
            case "float64":
                return Double.valueOf(Double.longBitsToDouble(parseBits(text, 16)));
            case "uuid":
                return UUID.fromString(text);
            case "string": {
                if (text.isEmpty()) {
                    return "";
                }
                String[] units = text.split("\\.", -1);
                char[] chars = new char[units.length];
                for (int i = 0; i < units.length; i++) {
                    int u = Integer.parseInt(units[i], 16);
                    if (u < 0 || u > 0xffff) {
                        throw new IllegalArgumentException("not a UTF-16 code unit: " + units[i]);
                    }
                    chars[i] = (char) u;
                }
                return new String(chars);
            }
            default:
                throw new IllegalArgumentException("unknown type " + type);
        }
    }
}
