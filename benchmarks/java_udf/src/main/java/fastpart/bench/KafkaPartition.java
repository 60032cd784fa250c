package fastpart.bench;

import java.nio.charset.StandardCharsets;

import org.apache.kafka.common.utils.Utils;
import org.apache.spark.sql.api.java.UDF2;

/**
 * kafka_partition_java(key STRING, n INT): the Java producer's partition of a
 * String key (StringSerializer bytes), as kafka-clients computes it:
 * {@code Utils.toPositive(Utils.murmur2(bytes)) % n}; -1 for a null key.
 */
public final class KafkaPartition implements UDF2<String, Integer, Integer> {
    private static final long serialVersionUID = 1L;

    @Override
    public Integer call(String key, Integer numPartitions) {
        if (key == null) {
            return -1;
        }
        byte[] bytes = key.getBytes(StandardCharsets.UTF_8);
        return Utils.toPositive(Utils.murmur2(bytes)) % numPartitions;
    }
}
