package io.clonefs.api;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;

/**
 * One HTTP/1.1 exchange with a server on 127.0.0.1, over a plain socket: the request with a
 * {@code Content-Length} body and {@code Connection: close}, the reply's status and body (framed by
 * {@code Content-Length}, chunked, or the end of the stream). What the control API's client needs
 * and no more: a short-lived command starts without the JDK's {@code java.net.http} client, whose
 * set-up (executors, TLS and security providers, even for plain http) cost a command about a
 * quarter of a second.
 *
 * <p>The read deadline covers the whole exchange after the connection: a reply (status, headers and
 * body) that has not fully arrived when it passes is a {@link SocketTimeoutException}.
 *
 * <p>A daemon listening beyond loopback ({@code clonefs mount --listen}) is reached over TLS by the
 * same code ({@link Endpoint} with an {@link SSLSocketFactory}); only then are the TLS classes loaded.
 *
 * <p>Public for the CLI's fast path ({@code io.clonefs.cli.FastPath}), which talks to the daemon
 * without Jackson; everything else goes through {@link HttpJsonClient}.
 */
public final class LoopbackHttp {
    private static final int MAX_HEADER_LINE = 16 * 1024;
    private static final int MAX_HEADERS = 200;

    private LoopbackHttp() {
    }

    /** A reply: HTTP status and the body's bytes. */
    public record Reply(int status, byte[] body) {
    }

    /**
     * Where a request goes: {@code 127.0.0.1:PORT} in plain HTTP ({@link #loopback}), or a host over
     * TLS ({@code tls} non-null: the host name is verified against the certificate, as HTTPS does).
     */
    public record Endpoint(String host, int port, SSLSocketFactory tls) {
        public static Endpoint loopback(int port) {
            return new Endpoint(null, port, null);
        }

        /** {@code http://127.0.0.1:PORT} or {@code https://HOST:PORT}. */
        public String url() {
            return tls == null ? "http://" + hostPort() : "https://" + hostPort();
        }

        String hostPort() {
            String h = host == null ? "127.0.0.1" : host.contains(":") ? "[" + host + "]" : host;
            return h + ":" + port;
        }
    }

    /** The same as {@link #exchange(Endpoint, String, String, String[], byte[], int, long)} with 127.0.0.1:{@code port}. */
    public static Reply exchange(int port, String method, String target, String[] headers, byte[] body,
                          int connectMs, long timeoutMs) throws IOException {
        return exchange(Endpoint.loopback(port), method, target, headers, body, connectMs, timeoutMs);
    }

    /**
     * @param target    the request target, e.g. {@code /v1/datasets?recursive=true} (already encoded)
     * @param headers   extra request headers, name and value alternating
     * @param body      the request body, or null for none ({@code Content-Length: 0} is still sent
     *                  for methods other than GET)
     * @param connectMs connect timeout
     * @param timeoutMs deadline of the exchange once connected
     */
    public static Reply exchange(Endpoint to, String method, String target, String[] headers, byte[] body,
                          int connectMs, long timeoutMs) throws IOException {
        int port = to.port();
        StringBuilder req = new StringBuilder(256);
        req.append(method).append(' ').append(target).append(" HTTP/1.1\r\n");
        header(req, "Host", to.hostPort());
        for (int i = 0; i < headers.length; i += 2) {
            header(req, headers[i], headers[i + 1]);
        }
        if (body != null || !method.equals("GET")) {
            header(req, "Content-Length", Integer.toString(body == null ? 0 : body.length));
        }
        header(req, "Connection", "close");
        req.append("\r\n");
        byte[] head = req.toString().getBytes(StandardCharsets.ISO_8859_1);

        try (Socket plain = new Socket()) {
            plain.setTcpNoDelay(true);
            plain.connect(to.host() == null ? new InetSocketAddress(InetAddress.getLoopbackAddress(), port)
                    : new InetSocketAddress(to.host(), port), connectMs);
            long deadline = System.nanoTime() + timeoutMs * 1_000_000L;
            Socket s = to.tls() == null ? plain : TlsSocket.over(plain, to, timeoutMs);
            OutputStream out = s.getOutputStream();
            if (body != null && body.length > 0) {
                byte[] all = new byte[head.length + body.length];
                System.arraycopy(head, 0, all, 0, head.length);
                System.arraycopy(body, 0, all, head.length, body.length);
                out.write(all);
            } else {
                out.write(head);
            }
            out.flush();
            return read(new BufferedInputStream(new DeadlineStream(s, deadline), 8192), method);
        }
    }

    private static void header(StringBuilder req, String name, String value) {
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c < 0x20 && c != '\t' || c > 0x7e) {
                // no header injection, and nothing the server would misread
                throw new IllegalArgumentException("invalid header value for " + name);
            }
        }
        req.append(name).append(": ").append(value).append("\r\n");
    }

    /** Reads a reply: status line, headers, body. */
    static Reply read(InputStream in, String method) throws IOException {
        int status;
        long length;
        boolean chunked;
        do {
            String statusLine = line(in);
            // HTTP/1.1 200 OK
            String[] parts = statusLine.split(" ", 3);
            if (parts.length < 2 || !parts[0].startsWith("HTTP/")) {
                throw new IOException("not an HTTP reply: " + printable(statusLine));
            }
            try {
                status = Integer.parseInt(parts[1]);
            } catch (NumberFormatException e) {
                throw new IOException("not an HTTP status: " + printable(statusLine));
            }
            length = -1;
            chunked = false;
            for (int n = 0;; n++) {
                String h = line(in);
                if (h.isEmpty()) {
                    break;
                }
                if (n >= MAX_HEADERS) {
                    throw new IOException("too many reply headers");
                }
                int colon = h.indexOf(':');
                if (colon <= 0) {
                    continue;
                }
                String name = h.substring(0, colon).trim().toLowerCase(Locale.ROOT);
                String value = h.substring(colon + 1).trim();
                if (name.equals("content-length")) {
                    try {
                        length = Long.parseLong(value);
                    } catch (NumberFormatException e) {
                        throw new IOException("bad Content-Length: " + printable(value));
                    }
                } else if (name.equals("transfer-encoding")) {
                    chunked = value.toLowerCase(Locale.ROOT).endsWith("chunked");
                }
            }
            // 1xx replies (100 Continue) come before the real one
        } while (status >= 100 && status < 200);
        if (method.equals("HEAD") || status == 204 || status == 304) {
            return new Reply(status, new byte[0]);
        }
        byte[] body;
        if (chunked) {
            body = chunked(in);
        } else if (length >= 0) {
            if (length > Integer.MAX_VALUE - 16) {
                throw new IOException("reply too large: " + length + " bytes");
            }
            body = in.readNBytes((int) length);
            if (body.length < length) {
                throw new EOFException("reply cut off after " + body.length + " of " + length + " bytes");
            }
        } else {
            body = in.readAllBytes();
        }
        return new Reply(status, body);
    }

    private static byte[] chunked(InputStream in) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        while (true) {
            String size = line(in);
            int semi = size.indexOf(';');
            long n;
            try {
                n = Long.parseLong((semi < 0 ? size : size.substring(0, semi)).trim(), 16);
            } catch (NumberFormatException e) {
                throw new IOException("bad chunk size: " + printable(size));
            }
            if (n < 0 || n > Integer.MAX_VALUE - 16 - b.size()) {
                throw new IOException("bad chunk size: " + printable(size));
            }
            if (n == 0) {
                while (!line(in).isEmpty()) {
                    // trailers: ignored
                }
                return b.toByteArray();
            }
            byte[] chunk = in.readNBytes((int) n);
            if (chunk.length < n) {
                throw new EOFException("reply cut off inside a chunk");
            }
            b.write(chunk);
            if (!line(in).isEmpty()) {
                throw new IOException("chunk not followed by CRLF");
            }
        }
    }

    /** One line without its CRLF (or LF); the end of the stream before it is an {@link EOFException}. */
    private static String line(InputStream in) throws IOException {
        StringBuilder b = new StringBuilder(64);
        while (true) {
            int c = in.read();
            if (c < 0) {
                throw new EOFException(b.length() == 0 ? "connection closed before a reply" : "reply cut off");
            }
            if (c == '\n') {
                int len = b.length();
                if (len > 0 && b.charAt(len - 1) == '\r') {
                    b.setLength(len - 1);
                }
                return b.toString();
            }
            if (b.length() >= MAX_HEADER_LINE) {
                throw new IOException("reply header line too long");
            }
            b.append((char) c);
        }
    }

    private static String printable(String s) {
        String t = s.length() > 80 ? s.substring(0, 80) + "..." : s;
        return t.replaceAll("[^\\x20-\\x7e]", "?");
    }

    /** The TLS layer of a connection; a class of its own so that plain exchanges never load the TLS classes. */
    private static final class TlsSocket {
        static Socket over(Socket plain, Endpoint to, long timeoutMs) throws IOException {
            SSLSocket ssl = (SSLSocket) to.tls().createSocket(plain, to.host(), to.port(), true);
            SSLParameters params = ssl.getSSLParameters();
            params.setEndpointIdentificationAlgorithm("HTTPS"); // the certificate must name the host
            ssl.setSSLParameters(params);
            ssl.setSoTimeout((int) Math.max(1, Math.min(timeoutMs, Integer.MAX_VALUE)));
            ssl.startHandshake();
            return ssl;
        }
    }

        /** The socket's input, each read bounded by what is left of the deadline. */
    private static final class DeadlineStream extends InputStream {
        private final Socket socket;
        private final InputStream in;
        private final long deadline;

        DeadlineStream(Socket socket, long deadline) throws IOException {
            this.socket = socket;
            this.in = socket.getInputStream();
            this.deadline = deadline;
        }

        private void arm() throws IOException {
            long left = (deadline - System.nanoTime()) / 1_000_000L;
            if (left <= 0) {
                throw new SocketTimeoutException("request timed out");
            }
            socket.setSoTimeout((int) Math.min(left, Integer.MAX_VALUE));
        }

        @Override
        public int read() throws IOException {
            arm();
            try {
                return in.read();
            } catch (SocketTimeoutException e) {
                throw new SocketTimeoutException("request timed out");
            }
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            arm();
            try {
                return in.read(b, off, len);
            } catch (SocketTimeoutException e) {
                throw new SocketTimeoutException("request timed out");
            }
        }
    }
}
