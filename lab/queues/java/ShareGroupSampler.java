// A share group's state, sampled live with Kafka's own Admin API (describeShareGroups, listShareGroupOffsets):
// one JSON line per sample on stdout until stdin closes. Run as a single-file source program
// (java -cp <kafka libs> ShareGroupSampler.java CLIENT_PROPERTIES GROUP INTERVAL_MS) by lab/queues/sampler.py.
// One JVM for the whole run: a sample is two admin requests, not a JVM start.
import java.io.FileInputStream;
import java.util.*;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.*;
import org.apache.kafka.common.TopicPartition;

public class ShareGroupSampler {
    static String q(String s) {
        return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }

    public static void main(String[] args) throws Exception {
        Properties props = new Properties();
        try (FileInputStream in = new FileInputStream(args[0])) { props.load(in); }
        String group = args[1];
        long every = Long.parseLong(args[2]);
        Thread watch = new Thread(() -> {  // the parent closes stdin to stop it (or dies)
            try { while (System.in.read() != -1) { } } catch (Exception e) { }
            System.exit(0);
        });
        watch.setDaemon(true);
        watch.start();
        try (Admin admin = Admin.create(props)) {
            while (true) {
                long at = System.currentTimeMillis();
                StringBuilder out = new StringBuilder("{\"at_ms\":" + at + ",\"members\":[");
                try {
                    ShareGroupDescription d = admin.describeShareGroups(List.of(group)).describedGroups()
                        .get(group).get(5, TimeUnit.SECONDS);
                    String sep = "";
                    for (ShareMemberDescription m : d.members()) {
                        out.append(sep).append("{\"id\":").append(q(m.consumerId())).append(",\"client\":")
                           .append(q(m.clientId())).append(",\"assignment\":[");
                        String s2 = "";
                        for (TopicPartition tp : m.assignment().topicPartitions()) {
                            out.append(s2).append(q(tp.topic() + ":" + tp.partition()));
                            s2 = ",";
                        }
                        out.append("]}");
                        sep = ",";
                    }
                    out.append("],\"partitions\":[");
                    Map<TopicPartition, SharePartitionOffsetInfo> offs = admin
                        .listShareGroupOffsets(Map.of(group, new ListShareGroupOffsetsSpec()))
                        .partitionsToOffsetInfo(group).get(5, TimeUnit.SECONDS);
                    sep = "";
                    for (Map.Entry<TopicPartition, SharePartitionOffsetInfo> e : offs.entrySet()) {
                        if (e.getValue() == null) continue;
                        out.append(sep).append("{\"topic\":").append(q(e.getKey().topic())).append(",\"partition\":")
                           .append(e.getKey().partition()).append(",\"start\":").append(e.getValue().startOffset())
                           .append(",\"lag\":").append(e.getValue().lag().map(String::valueOf).orElse("null"))
                           .append("}");
                        sep = ",";
                    }
                    out.append("]}");
                } catch (Exception e) {
                    out = new StringBuilder("{\"at_ms\":" + at + ",\"error\":" + q(String.valueOf(e)) + "}");
                }
                System.out.println(out);
                System.out.flush();
                long left = every - (System.currentTimeMillis() - at);
                if (left > 0) Thread.sleep(left);
            }
        }
    }
}
