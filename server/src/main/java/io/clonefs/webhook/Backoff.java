package io.clonefs.webhook;

/**
 * When a failed delivery is tried again: after 1 s, 2 s, 4 s, ... doubling up to 60 s between
 * attempts, while the next attempt would start within the webhook's give-up time (counted from
 * the first attempt); then it is given up. Network errors, 5xx and 429 are retried; any other
 * status is the receiver's final answer.
 */
public final class Backoff {
    public static final long FIRST_MILLIS = 1_000;
    public static final long MAX_MILLIS = 60_000;

    private Backoff() {
    }

    /** True when an attempt that ended with {@code status} (null: no HTTP answer) is tried again. */
    public static boolean retryable(Integer status) {
        return status == null || status >= 500 || status == 429;
    }

    public static boolean delivered(Integer status) {
        return status != null && status >= 200 && status < 300;
    }

    /** The wait after failed attempt {@code attempt} (1 for the first) before the next one. */
    public static long delayMillis(int attempt) {
        if (attempt < 1) {
            throw new IllegalArgumentException("attempt " + attempt);
        }
        int shift = Math.min(attempt - 1, 30);
        return Math.min(MAX_MILLIS, FIRST_MILLIS << shift);
    }

    /**
     * The wait before the next attempt, or -1 to give up: {@code elapsedMillis} since the first
     * attempt started, {@code retryAfterMillis} what the receiver asked for (0 if nothing).
     */
    public static long next(int attempt, long elapsedMillis, long giveUpMillis, long retryAfterMillis) {
        long d = Math.max(delayMillis(attempt), Math.min(retryAfterMillis, MAX_MILLIS));
        return elapsedMillis + d <= giveUpMillis ? d : -1;
    }
}
