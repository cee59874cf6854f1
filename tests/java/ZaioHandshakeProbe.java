// ZaioHandshakeProbe: opens many JeroMQ DEALER connections to a zaio-broker,
// one after another, and times each one's first ZAIO/1 ping reply.
//
//   java -cp jeromq-0.6.0.jar:. ZaioHandshakeProbe tcp://127.0.0.1:5670 \
//        [COUNT] [TIMEOUT_MS] [CLIENT_HANDSHAKE_MS]
//
// Each connection is a new DEALER on one ZContext: connect, send a ping at
// once (JeroMQ queues it until the ZMTP handshake completes), wait for the
// reply. CLIENT_HANDSHAKE_MS, if given, is the DEALER's own ZMQ_HANDSHAKE_IVL
// (JeroMQ's default is 30000). Prints one line per connection (its time, and the socket monitor's
// events with their times since connect) and a summary. A connection with no
// reply within TIMEOUT_MS counts as lost. See README.md beside this file.

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.zeromq.SocketType;
import org.zeromq.ZContext;
import org.zeromq.ZMQ;
import org.zeromq.ZMonitor;
import org.zeromq.ZMsg;

public class ZaioHandshakeProbe {
    static final byte[] SIGNATURE = "ZAIO/1".getBytes(StandardCharsets.US_ASCII);

    // {"id": id, "op": "ping"} in canonical msgpack (PROTOCOL.md 3.3).
    static byte[] ping(long id) {
        byte[] idBytes;
        if (id < 128) idBytes = new byte[] {(byte) id};
        else if (id < 256) idBytes = new byte[] {(byte) 0xcc, (byte) id};
        else idBytes = new byte[] {(byte) 0xcd, (byte) (id >> 8), (byte) id};
        byte[] head = {(byte) 0x82, (byte) 0xa2, 'i', 'd'};
        byte[] tail = {(byte) 0xa2, 'o', 'p', (byte) 0xa4, 'p', 'i', 'n', 'g'};
        byte[] out = new byte[head.length + idBytes.length + tail.length];
        System.arraycopy(head, 0, out, 0, head.length);
        System.arraycopy(idBytes, 0, out, head.length, idBytes.length);
        System.arraycopy(tail, 0, out, head.length + idBytes.length, tail.length);
        return out;
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 1) {
            System.err.println(
                    "usage: ZaioHandshakeProbe ENDPOINT [COUNT] [TIMEOUT_MS] [CLIENT_HANDSHAKE_MS]");
            System.exit(2);
        }
        String endpoint = args[0];
        int count = args.length > 1 ? Integer.parseInt(args[1]) : 60;
        int timeoutMs = args.length > 2 ? Integer.parseInt(args[2]) : 40000;
        int clientHandshakeMs = args.length > 3 ? Integer.parseInt(args[3]) : -1;
        long[] times = new long[count];
        int lost = 0;
        try (ZContext ctx = new ZContext()) {
            for (int i = 0; i < count; i++) {
                ZMQ.Socket dealer = ctx.createSocket(SocketType.DEALER);
                dealer.setLinger(0);
                if (clientHandshakeMs >= 0) dealer.setHandshakeIvl(clientHandshakeMs);
                ZMonitor monitor = new ZMonitor(ctx, dealer);
                monitor.add(ZMonitor.Event.ALL);
                monitor.verbose(false);
                monitor.start();
                long start = System.nanoTime();
                dealer.connect(endpoint);
                ZMsg request = new ZMsg();
                request.add(SIGNATURE);
                request.add(ping(i + 1));
                request.send(dealer);
                ZMQ.Poller poller = ctx.createPoller(1);
                poller.register(dealer, ZMQ.Poller.POLLIN);
                List<String> events = new ArrayList<>();
                boolean answered = false;
                long deadline = start + timeoutMs * 1_000_000L;
                while (!answered && System.nanoTime() < deadline) {
                    poller.poll(50);
                    if (poller.pollin(0)) {
                        ZMsg reply = ZMsg.recvMsg(dealer);
                        answered = reply != null;
                    }
                    ZMonitor.ZEvent event;
                    while ((event = monitor.nextEvent(false)) != null)
                        events.add(String.format("%s@%d", event.type,
                                (System.nanoTime() - start) / 1_000_000));
                }
                long ms = (System.nanoTime() - start) / 1_000_000;
                times[i] = answered ? ms : -1;
                if (!answered) lost++;
                System.out.printf("conn %3d: %s %6d ms  %s%n", i + 1, answered ? "reply" : "LOST ",
                        ms, String.join(" ", events));
                poller.close();
                monitor.close();
                ctx.destroySocket(dealer);
            }
        }
        long[] ok = Arrays.stream(times).filter(t -> t >= 0).sorted().toArray();
        long slow = Arrays.stream(ok).filter(t -> t >= 1000).count();
        System.out.printf("summary: %d connections, %d answered, %d lost, %d took >= 1 s; "
                        + "median %d ms, max %d ms%n",
                count, ok.length, lost, slow, ok.length > 0 ? ok[ok.length / 2] : -1,
                ok.length > 0 ? ok[ok.length - 1] : -1);
    }
}
