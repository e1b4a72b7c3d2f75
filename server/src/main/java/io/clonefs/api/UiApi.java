package io.clonefs.api;

/** The web console's one route under {@code /v1} (see {@code io.clonefs.ui}). */
public final class UiApi {
    private UiApi() {
    }

    /**
     * {@code POST /v1/ui/links}: a one-time sign-in link to the console ({@code clonefs ui}).
     *
     * @param url              the console's address, signed out
     * @param loginUrl         the link: good once, for {@code expiresInSeconds}
     * @param expiresInSeconds how long the link is good
     */
    public record LoginLink(String url, String loginUrl, long expiresInSeconds) {
    }
}
