package io.clonefs.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import io.clonefs.it.pg.PgHarness;
import io.clonefs.it.support.Clonefs;
import io.clonefs.it.support.MountedPool;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.openqa.selenium.By;
import org.openqa.selenium.Cookie;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.Keys;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The web console ({@code docs/console.md}) in headless Chromium, driven by Selenium, against a
 * daemon started with {@code clonefs mount} and a real PostgreSQL source: sign-in refused with a
 * wrong token and accepted with the right one or a one-time link (used once), a branch created from
 * the form and reached with JDBC at the URI the page shows, its time to live extended from the page
 * (keyboard only) and seen through the API, the volumes tree (a branch under the snapshot it came
 * from), the pool's space chart and reclaim backlog, remotes and the cache, an API error shown as
 * the API's message, reset and destroy from the page (and {@code clonefs pg list} sees it gone), CSRF
 * attempts from another origin refused (java.net.http and a page on another local port), the
 * events page (filtered by name and by event), a phone-sized window (rows as cards, no page wider
 * than the screen), and the banner when the daemon stops. Saves the screenshots in
 * {@code integration-tests/target/screenshots}, or in {@code -Dclonefs.it.screenshots=DIR}
 * ({@code make console-screenshots} writes {@code docs/img/console-*.png}).
 */
class ConsoleIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    private static final Path DRIVER = Path.of("/usr/bin/chromedriver");
    @RegisterExtension
    final MountedPool pools = MountedPool.daemon("console").pgPorts(46000, 40).build();

    @Test
    void signInBranchResetDestroyCsrfEventsInChromium() throws Exception {
        assumeTrue(Files.isExecutable(CHROMIUM) && Files.isExecutable(DRIVER),
                "ConsoleIT needs Debian's chromium and chromium-driver (/usr/bin/chromium, /usr/bin/chromedriver): "
                        + "run scripts/install-deps.sh");
        Clonefs cfs = pools.clonefs();
        int port = cfs.daemonInfo().get("port").asInt();
        String base = "http://127.0.0.1:" + port;
        String token = Files.readString(cfs.pool().resolve("daemon.token")).strip();
        // docs/img is refreshed only when asked (-Dclonefs.it.screenshots=DIR, see docs/console.md)
        String shots = System.getProperty("clonefs.it.screenshots", "");
        Path img = shots.isBlank() ? Clonefs.launcher().getParent().getParent().resolve("integration-tests/target/screenshots")
                : Path.of(shots);
        Files.createDirectories(img);

        JsonNode src = cfs.json("pg", "init", "src");
        int srcPort = src.get("port").asInt();
        PgHarness.execute(srcPort, "create table t (x int); insert into t values (42)");
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

        WebDriver driver = browser();
        try {
            WebDriverWait wait = new WebDriverWait(driver, Duration.ofSeconds(20));
            // signed out: /ui/ sends the browser to the sign-in page; a wrong token is refused with one clear line
            driver.get(base + "/ui/");
            wait.until(ExpectedConditions.urlToBe(base + "/ui/login"));
            driver.findElement(By.id("token")).sendKeys("not-the-token");
            driver.findElement(By.id("sign-in")).click();
            WebElement err = wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("login-error")));
            assertTrue(err.getText().startsWith("wrong token"), err.getText());
            assertEquals(base + "/ui/login", driver.getCurrentUrl());
            assertTrue(driver.manage().getCookies().isEmpty(), "no cookie after a wrong token: " + driver.manage().getCookies());
            screenshot(driver, img.resolve("console-login.png"));

            // the right token: the console, a session cookie HttpOnly + SameSite=Strict, and the token nowhere in the page
            driver.findElement(By.id("token")).sendKeys(token);
            driver.findElement(By.id("sign-in")).click();
            wait.until(ExpectedConditions.urlToBe(base + "/ui/"));
            Cookie session = driver.manage().getCookieNamed("clonefs-session-" + port);
            assertNotNull(session, "session cookie: " + driver.manage().getCookies());
            assertTrue(session.isHttpOnly(), "HttpOnly");
            assertEquals("Strict", session.getSameSite());
            assertEquals("/", session.getPath());
            wait.until(ExpectedConditions.presenceOfElementLocated(By.cssSelector("tr[data-name='src']")));
            assertFalse(driver.getPageSource().contains(token), "the token must not be in the page");

            // create a branch from the form: progress while it starts, then the URI, reached with JDBC
            JavascriptExecutor js = (JavascriptExecutor) driver;
            js.executeScript("window.sawProgress = false; new MutationObserver(() => {"
                    + " if (document.querySelector('#create-status progress')) { window.sawProgress = true; } })"
                    + ".observe(document.getElementById('create-status'), {childList: true, subtree: true});");
            driver.findElement(By.id("create-name")).sendKeys("feat1");
            driver.findElement(By.id("create-ttl")).sendKeys("2h");
            driver.findElement(By.id("create-submit")).click();
            WebElement uriField = new WebDriverWait(driver, Duration.ofSeconds(120))
                    .until(ExpectedConditions.presenceOfElementLocated(By.id("created-uri")));
            String uri = uriField.getAttribute("value");
            JsonNode feat1 = api(http, base, token, "GET", "/v1/pg/servers/feat1", null).body;
            assertEquals(feat1.get("uri").asText(), uri);
            assertEquals("42", query(uri, "select x from t"));
            wait.until(ExpectedConditions.presenceOfElementLocated(By.cssSelector("tr[data-name='feat1'] td.left")));
            String left = driver.findElement(By.cssSelector("tr[data-name='feat1'] td.left")).getText();
            assertTrue(left.startsWith("1h 59m") || left.startsWith("2h"), "time left: " + left);
            assertEquals(Boolean.TRUE, js.executeScript("return window.sawProgress"), "a progress bar while it starts");
            screenshot(driver, img.resolve("console-servers.png"));

            // extend its time to live from the page, with the keyboard only: the API sees the new expiry
            driver.findElement(By.cssSelector("tr[data-name='feat1'] button[data-action='ttl']")).sendKeys(Keys.ENTER);
            WebElement ttlInput = wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("ttl-value")));
            assertTrue(driver.findElement(By.id("ttl-now")).getText().startsWith("It expires in 1h 5"),
                    driver.findElement(By.id("ttl-now")).getText());
            assertEquals(ttlInput, driver.switchTo().activeElement(), "the dialog's field has the focus");
            ttlInput.sendKeys("5h", Keys.ENTER);
            wait.until(ExpectedConditions.textMatches(By.cssSelector("tr[data-name='feat1'] td.left"),
                    java.util.regex.Pattern.compile("^(4h 59m|5h 0m)$")));
            java.time.Instant expires = java.time.Instant.parse(
                    api(http, base, token, "GET", "/v1/pg/servers/feat1", null).body.get("expiresAt").asText());
            long minutesLeft = Duration.between(java.time.Instant.now(), expires).toMinutes();
            assertTrue(minutesLeft >= 298 && minutesLeft <= 300, "extended to " + expires);
            // a bad time to live: the API's message on the page, the expiry unchanged
            click(driver, "tr[data-name='feat1'] button[data-action='ttl']");
            wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("ttl-value"))).sendKeys("soon");
            driver.findElement(By.id("ttl-ok")).click();
            WebElement ttlError = wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("error-text")));
            assertTrue(ttlError.getText().contains("'soon' is not a duration"), ttlError.getText());
            assertEquals(expires.toString(), api(http, base, token, "GET", "/v1/pg/servers/feat1", null).body.get("expiresAt").asText());
            driver.findElement(By.id("error-close")).click();
            // the CLI's pg ttl does the same, and the page follows
            JsonNode cliTtl = cfs.json("pg", "ttl", "feat1", "30m");
            assertEquals(cliTtl.get("expiresAt").asText(),
                    api(http, base, token, "GET", "/v1/pg/servers/feat1", null).body.get("expiresAt").asText());
            wait.until(ExpectedConditions.textMatches(By.cssSelector("tr[data-name='feat1'] td.left"),
                    java.util.regex.Pattern.compile("^(29m \\d+s|30m 0s)$")));
            assertTrue(cfs.ok("pg", "ttl", "feat1", "5h").out().startsWith("feat1: expires at "));
            assertEquals(2, cfs.run("pg", "ttl", "feat1", "soon").exit(), "a bad duration is a usage error");

            // --at: the source has a snapshot now (feat1's), so the field is on; a branch as of now gets that snapshot
            wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("create-at-help"), "1 snapshot(s)"));
            assertTrue(driver.findElement(By.id("create-at")).isEnabled());
            js.executeScript("const d = new Date(); d.setMinutes(d.getMinutes() - d.getTimezoneOffset());"
                    + " document.getElementById('create-at').value = d.toISOString().slice(0, 19);");
            driver.findElement(By.id("create-name")).sendKeys("asof1", Keys.ENTER); // the keyboard submits the form
            new WebDriverWait(driver, Duration.ofSeconds(120)).until(ExpectedConditions.textToBePresentInElementLocated(
                    By.id("create-status"), "asof1 answers at"));
            JsonNode asof = api(http, base, token, "GET", "/v1/pg/servers/asof1", null).body;
            assertEquals(feat1.get("snapshot").asText(), asof.get("snapshot").asText(), "the newest snapshot at or before the moment");
            assertEquals("42", query(asof.get("uri").asText(), "select x from t"));
            // suspend, stop and start from the page; the state column follows
            click(driver, "tr[data-name='asof1'] button[data-action='suspend']");
            new WebDriverWait(driver, Duration.ofSeconds(60)).until(ExpectedConditions.textToBe(
                    By.cssSelector("tr[data-name='asof1'] td.state"), "suspended"));
            click(driver, "tr[data-name='asof1'] button[data-action='stop']");
            new WebDriverWait(driver, Duration.ofSeconds(60)).until(ExpectedConditions.textToBe(
                    By.cssSelector("tr[data-name='asof1'] td.state"), "stopped"));
            click(driver, "tr[data-name='asof1'] button[data-action='start']");
            new WebDriverWait(driver, Duration.ofSeconds(60)).until(ExpectedConditions.textToBe(
                    By.cssSelector("tr[data-name='asof1'] td.state"), "running"));
            assertEquals("42", query(asof.get("uri").asText(), "select x from t"));
            assertTrue(driver.findElement(By.id("error")).getAttribute("hidden") != null,
                    "no error shown: " + driver.findElement(By.id("error-text")).getText());

            // volumes and snapshots: each branch is a clone under the snapshot it came from, with its unique space
            driver.findElement(By.id("nav-volumes")).click();
            String feat1Snap = feat1.get("snapshot").asText();
            WebElement cloneNode = wait.until(ExpectedConditions.presenceOfElementLocated(By.cssSelector(
                    "#volumes-tree li[data-name='src'] > ul > li[data-name='" + feat1Snap + "'] > ul > li[data-name='feat1']")));
            assertTrue(cloneNode.findElement(By.cssSelector(".node-space")).getText().startsWith("unique "),
                    cloneNode.getText());
            assertEquals("3", cloneNode.getAttribute("data-level"));
            assertEquals(1, driver.findElements(By.cssSelector("#volumes-tree li[data-name='" + feat1Snap
                    + "'] > ul > li[data-name='asof1']")).size(), "asof1 came from the same snapshot");
            screenshot(driver, img.resolve("console-volumes.png"));

            // the pool: the space chart from the daemon's samples (at least the first one and one taken now), the backlog
            driver.findElement(By.id("nav-pool")).click();
            WebElement usedArea = wait.until(ExpectedConditions.presenceOfElementLocated(
                    By.cssSelector("#pool-chart-used polygon[data-series='used']")));
            int points = usedArea.getAttribute("points").trim().split(" ").length;
            assertTrue(points >= 4, "two samples and the base line at least: " + usedArea.getAttribute("points"));
            Number chartWidth = (Number) js.executeScript("return document.getElementById('pool-chart-used').getBoundingClientRect().width");
            assertTrue(chartWidth.intValue() > 300, "the chart is drawn: " + chartWidth);
            assertTrue(driver.findElement(By.cssSelector("#pool-backlog .stat-value")).getText().matches("\\d+"));
            assertEquals(1, driver.findElements(By.cssSelector("#pool-chart-free polygon[data-series='free']")).size());
            assertEquals(1, driver.findElements(By.cssSelector("#pool-chart-backlog polygon[data-series='backlog']")).size());
            assertTrue(driver.findElement(By.cssSelector("#pool-chart-used desc")).getAttribute("textContent").contains(", now "));
            screenshot(driver, img.resolve("console-pool.png"));

            // remotes and the cache: none here, the cache's counters shown
            driver.findElement(By.id("nav-remotes")).click();
            wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("remotes-empty")));
            assertTrue(driver.findElement(By.cssSelector("#cache-cached .stat-value")).getText().startsWith("0 blocks"));
            driver.findElement(By.id("nav-servers")).click();
            wait.until(ExpectedConditions.presenceOfElementLocated(By.cssSelector("tr[data-name='asof1']")));

            // an API error: the same name again, shown as the API's own one-line message
            Reply dup = api(http, base, token, "POST", "/v1/pg/branches", "{\"source\":\"src\",\"name\":\"feat1\"}");
            assertEquals(409, dup.status, dup.body.toString());
            driver.findElement(By.id("create-name")).sendKeys("feat1");
            driver.findElement(By.id("create-submit")).click();
            WebElement createError = wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("create-error")));
            assertEquals(dup.body.get("message").asText(), createError.getText());

            // CSRF: a request with the cookie is refused without the session's CSRF header, or from another origin
            String cookie = session.getName() + "=" + session.getValue();
            String csrf = JSON.readTree(send(http, HttpRequest.newBuilder(URI.create(base + "/ui/session"))
                    .header("Cookie", cookie).GET()).body()).get("csrf").asText();
            String protect = "/v1/pg/servers/feat1/protect";
            HttpResponse<String> noHeader = send(http, HttpRequest.newBuilder(URI.create(base + protect))
                    .header("Cookie", cookie).header("Origin", base).POST(HttpRequest.BodyPublishers.noBody()));
            assertEquals(401, noHeader.statusCode(), noHeader.body());
            assertTrue(noHeader.body().contains("X-CSRF-Token"), noHeader.body());
            HttpResponse<String> foreign = send(http, HttpRequest.newBuilder(URI.create(base + protect))
                    .header("Cookie", cookie).header("X-CSRF-Token", csrf).header("Origin", "http://127.0.0.1:1")
                    .POST(HttpRequest.BodyPublishers.noBody()));
            assertEquals(401, foreign.statusCode(), foreign.body());
            assertTrue(foreign.body().contains("cross-origin"), foreign.body());
            HttpResponse<String> fetchSite = send(http, HttpRequest.newBuilder(URI.create(base + protect))
                    .header("Cookie", cookie).header("X-CSRF-Token", csrf).header("Origin", base)
                    .header("Sec-Fetch-Site", "same-site").POST(HttpRequest.BodyPublishers.noBody()));
            assertEquals(401, fetchSite.statusCode(), fetchSite.body());
            assertFalse(api(http, base, token, "GET", "/v1/pg/servers/feat1", null).body.get("protected").asBoolean());
            // a page on another local port (same site, so the SameSite=Strict cookie goes along) tries to stop and protect it
            HttpServer evil = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 4);
            byte[] page = ("<!doctype html><title>evil</title><script>\n"
                    + "Promise.allSettled([\n"
                    + "  fetch('" + base + "/v1/pg/servers/feat1/stop', {method: 'POST', credentials: 'include', mode: 'no-cors'}),\n"
                    + "  fetch('" + base + protect + "', {method: 'POST', credentials: 'include', mode: 'no-cors',\n"
                    + "    headers: {'Content-Type': 'text/plain'}, body: 'x'})\n"
                    + "]).then(() => { document.title = 'done'; });\n</script>").getBytes(StandardCharsets.UTF_8);
            evil.createContext("/", ex -> {
                ex.getResponseHeaders().set("Content-Type", "text/html");
                ex.sendResponseHeaders(200, page.length);
                try (OutputStream os = ex.getResponseBody()) {
                    os.write(page);
                }
            });
            evil.start();
            try {
                driver.get("http://127.0.0.1:" + evil.getAddress().getPort() + "/");
                wait.until(ExpectedConditions.titleIs("done"));
            } finally {
                evil.stop(0);
            }
            JsonNode after = api(http, base, token, "GET", "/v1/pg/servers/feat1", null).body;
            assertEquals("running", after.get("state").asText(), "the foreign page must not stop it");
            assertFalse(after.get("protected").asBoolean(), "the foreign page must not protect it");
            // the same request from the console itself, with its header and origin, goes through
            HttpResponse<String> same = send(http, HttpRequest.newBuilder(URI.create(base + protect))
                    .header("Cookie", cookie).header("X-CSRF-Token", csrf).header("Origin", base)
                    .POST(HttpRequest.BodyPublishers.noBody()));
            assertEquals(200, same.statusCode(), same.body());

            // protect shows in the page; a protected branch refuses a reset with the API's message; unprotect
            driver.get(base + "/ui/#servers");
            wait.until(ExpectedConditions.textToBe(By.cssSelector("tr[data-name='feat1'] td.protected"), "yes"));
            click(driver, "tr[data-name='feat1'] button[data-action='unprotect']");
            wait.until(ExpectedConditions.textToBe(By.cssSelector("tr[data-name='feat1'] td.protected"), "no"));

            // reset from the page: the confirmation names what is lost; the row written since is gone
            PgHarness.execute(feat1.get("port").asInt(), "insert into t values (43)");
            click(driver, "tr[data-name='feat1'] button[data-action='reset']");
            WebElement dialogText = wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("confirm-text")));
            assertTrue(dialogText.getText().contains("Everything written to feat1"), dialogText.getText());
            driver.findElement(By.id("confirm-ok")).click();
            long until = System.nanoTime() + Duration.ofSeconds(90).toNanos();
            String count = null;
            while (System.nanoTime() < until) {
                try {
                    count = query(uri, "select count(*) from t");
                    if (count.equals("1")) {
                        break;
                    }
                } catch (java.sql.SQLException e) {
                    count = e.getMessage(); // restarting
                }
                Thread.sleep(300);
            }
            assertEquals("1", count, "after the reset only the source's row is left");

            // the events page: the branch's created and reset events, filterable
            driver.get(base + "/ui/#events");
            driver.navigate().refresh();
            wait.until(ExpectedConditions.presenceOfElementLocated(By.cssSelector("#events-body tr")));
            driver.findElement(By.id("events-filter")).sendKeys("feat1");
            wait.until(d -> d.findElements(By.cssSelector("#events-body td.type")).stream()
                    .map(WebElement::getText).toList().containsAll(java.util.List.of("created", "reset")));
            assertTrue(driver.findElements(By.cssSelector("#events-body td.name")).stream()
                    .allMatch(e -> e.getText().equals("feat1")), "the filter keeps feat1's events only");
            new org.openqa.selenium.support.ui.Select(driver.findElement(By.id("events-type"))).selectByValue("reset");
            wait.until(d -> d.findElements(By.cssSelector("#events-body td.type")).stream()
                    .allMatch(e -> e.getText().equals("reset")));
            assertFalse(driver.findElements(By.cssSelector("#events-body tr")).isEmpty());
            new org.openqa.selenium.support.ui.Select(driver.findElement(By.id("events-type"))).selectByValue("");
            screenshot(driver, img.resolve("console-events.png"));

            // destroy from the page: the confirmation names what is lost; the CLI sees it gone
            driver.get(base + "/ui/#servers");
            driver.navigate().refresh();
            wait.until(ExpectedConditions.presenceOfElementLocated(By.cssSelector("tr[data-name='feat1']")));
            click(driver, "tr[data-name='feat1'] button[data-action='destroy']");
            dialogText = wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("confirm-text")));
            assertTrue(dialogText.getText().contains("feat1") && dialogText.getText().contains("deleted for good")
                    && dialogText.getText().contains(uri), dialogText.getText());
            Number wide = (Number) js.executeScript(
                    "const w = document.querySelector('.table-wrap'); return w.scrollWidth - w.clientWidth");
            assertTrue(wide.intValue() <= 0, "at 1280 px the servers table is wider than the page by " + wide + " px");
            screenshot(driver, img.resolve("console-destroy.png"));
            driver.findElement(By.id("confirm-ok")).click();
            new WebDriverWait(driver, Duration.ofSeconds(60)).until(ExpectedConditions.numberOfElementsToBe(
                    By.cssSelector("tr[data-name='feat1']"), 0));
            String list = cfs.ok("pg", "list", "--json").out();
            assertFalse(list.contains("\"feat1\""), list);

            // a phone-sized window: every row a card, nothing wider than the screen, on each page
            driver.manage().window().setSize(new Dimension(390, 844));
            driver.navigate().refresh();
            wait.until(ExpectedConditions.presenceOfElementLocated(By.cssSelector("tr[data-name='src']")));
            assertEquals("block", js.executeScript(
                    "return getComputedStyle(document.querySelector(\"tr[data-name='src']\")).display"), "a card");
            assertEquals("none", js.executeScript("return getComputedStyle(document.querySelector('#servers-table thead')).display"));
            for (String nav : new String[] {"nav-volumes", "nav-pool", "nav-events", "nav-servers"}) {
                driver.findElement(By.id(nav)).click();
                wait.until(ExpectedConditions.attributeToBe(By.id(nav), "aria-current", "page"));
                Thread.sleep(300); // its first refresh
                Number overflow = (Number) js.executeScript(
                        "return document.documentElement.scrollWidth - document.documentElement.clientWidth");
                assertTrue(overflow.intValue() <= 0, nav + ": the page is wider than a phone by " + overflow + " px");
            }
            wait.until(ExpectedConditions.presenceOfElementLocated(By.cssSelector("tr[data-name='src']")));
            js.executeScript("document.getElementById('servers-table').scrollIntoView()");
            screenshot(driver, img.resolve("console-phone.png"));
            driver.manage().window().setSize(new Dimension(1280, 900));

            // a one-time link from `clonefs ui`: signs in once, leaves the address bar, refused the second time
            String printed = cfs.ok("ui").out();
            assertTrue(printed.startsWith("console:  " + base + "/ui/\nsign in:  " + base + "/ui/login?code="), printed);
            JsonNode link = cfs.json("ui");
            String login = link.get("loginUrl").asText();
            assertTrue(login.startsWith(base + "/ui/login?code="), login);
            driver.manage().deleteAllCookies();
            driver.get(base + "/ui/");
            wait.until(ExpectedConditions.urlToBe(base + "/ui/login"));
            driver.get(login);
            wait.until(ExpectedConditions.urlToBe(base + "/ui/"));
            wait.until(ExpectedConditions.presenceOfElementLocated(By.cssSelector("tr[data-name='src']")));
            driver.manage().deleteAllCookies();
            driver.get(login);
            WebElement used = wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("login-error")));
            assertTrue(used.getText().contains("already used or has expired"), used.getText());
            assertEquals(base + "/ui/login", driver.getCurrentUrl());

            // the daemon stops: a banner, not a blank page
            JsonNode link2 = cfs.json("ui");
            driver.get(link2.get("loginUrl").asText());
            wait.until(ExpectedConditions.presenceOfElementLocated(By.cssSelector("tr[data-name='src']")));
            assertEquals(202, api(http, base, token, "POST", "/v1/shutdown", null).status);
            WebElement banner = new WebDriverWait(driver, Duration.ofSeconds(60))
                    .until(ExpectedConditions.visibilityOfElementLocated(By.id("banner")));
            assertTrue(banner.getText().startsWith("The daemon is not answering"), banner.getText());
            assertTrue(driver.findElements(By.cssSelector("tr[data-name='src']")).size() == 1,
                    "the last known servers stay on the page");
        } finally {
            driver.quit();
        }
    }

    private static WebDriver browser() {
        ChromeOptions o = new ChromeOptions();
        o.setBinary(CHROMIUM.toFile());
        o.addArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1280,900", "--disable-extensions", "--no-first-run");
        ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(DRIVER.toFile())
                .usingAnyFreePort().build();
        return new ChromeDriver(service, o);
    }

    private static void click(WebDriver driver, String css) {
        new WebDriverWait(driver, Duration.ofSeconds(20)).until(ExpectedConditions.elementToBeClickable(By.cssSelector(css)))
                .click();
    }

    private static void screenshot(WebDriver driver, Path to) throws Exception {
        Path shot = ((TakesScreenshot) driver).getScreenshotAs(OutputType.FILE).toPath();
        Files.copy(shot, to, StandardCopyOption.REPLACE_EXISTING);
        System.out.println("screenshot: " + to);
    }

    /** First column of the first row, over JDBC at the URI the page showed ({@code postgresql://USER@HOST:PORT/DB}). */
    private static String query(String uri, String sql) throws Exception {
        URI u = URI.create(uri);
        Properties p = new Properties();
        p.setProperty("user", u.getUserInfo());
        p.setProperty("connectTimeout", "10");
        try (Connection c = DriverManager.getConnection("jdbc:postgresql://" + u.getHost() + ":" + u.getPort() + u.getPath(), p);
             Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            return rs.next() ? rs.getString(1) : null;
        }
    }

    record Reply(int status, JsonNode body) {
    }

    private static Reply api(HttpClient http, String base, String token, String method, String path, String body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).header("Authorization", "Bearer " + token)
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        HttpResponse<String> r = send(http, b);
        return new Reply(r.statusCode(), JSON.readTree(r.body()));
    }

    private static HttpResponse<String> send(HttpClient http, HttpRequest.Builder b) throws Exception {
        return http.send(b.timeout(Duration.ofSeconds(120)).build(), HttpResponse.BodyHandlers.ofString());
    }
}
