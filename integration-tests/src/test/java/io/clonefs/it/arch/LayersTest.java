package io.clonefs.it.arch;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The dependency rules of docs/architecture.md, checked on the compiled main classes of every
 * module: a layer imports only layers below it, and no two packages import each other (directly
 * or through others). A unit test (surefire), not an IT: it runs in seconds.
 */
class LayersTest {
    /** Bottom to top; a layer may depend on the layers before it in this list, never after. */
    static final List<Layer> LAYERS = List.of(
            new Layer("base", "io.clonefs.base..", "io.clonefs.metrics.."),
            new Layer("metadata", "io.clonefs.metadata.."),
            new Layer("block", "io.clonefs.block.."),
            new Layer("engine", "io.clonefs.engine.."),
            new Layer("fuse", "io.clonefs.fuse.."),
            new Layer("api", "io.clonefs.api.."),
            new Layer("server", "io.clonefs.pg..", "io.clonefs.remote..", "io.clonefs.daemon..", "io.clonefs.webhook..",
                    "io.clonefs.ui.."),
            new Layer("cli", "io.clonefs.cli.."),
            new Layer("tools", "io.clonefs.bench..", "io.clonefs.compare.."));

    record Layer(String name, String... packages) {
    }

    static JavaClasses classes;

    @BeforeAll
    static void importMainClasses() {
        classes = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importPackages("io.clonefs");
        // A rule over nothing passes: make sure every layer is really there.
        for (Layer l : LAYERS) {
            long n = classes.stream().filter(c -> Arrays.stream(l.packages())
                    .anyMatch(p -> c.getPackageName().startsWith(p.substring(0, p.length() - 2)))).count();
            assertTrue(n > 0, "no classes of layer " + l.name() + " were found on the class path");
        }
    }

    @Test
    void everyLayerImportsOnlyLayersBelowIt() {
        List<AssertionError> failures = new ArrayList<>();
        for (int i = 0; i < LAYERS.size() - 1; i++) {
            List<String> above = new ArrayList<>();
            for (Layer l : LAYERS.subList(i + 1, LAYERS.size())) {
                above.addAll(List.of(l.packages()));
            }
            try {
                noClasses().that().resideInAnyPackage(LAYERS.get(i).packages())
                        .should().dependOnClassesThat().resideInAnyPackage(above.toArray(String[]::new))
                        .because("layer " + LAYERS.get(i).name() + " may import only the layers below it (docs/architecture.md)")
                        .check(classes);
            } catch (AssertionError e) {
                failures.add(e);
            }
        }
        if (!failures.isEmpty()) {
            AssertionError all = new AssertionError(failures.size() + " layer(s) import upwards:\n"
                    + String.join("\n", failures.stream().map(Throwable::getMessage).toList()));
            throw all;
        }
    }

    @Test
    void lmdbLayoutsStayInsideTheEngine() {
        noClasses().that().resideInAnyPackage("io.clonefs.fuse..", "io.clonefs.api..", "io.clonefs.pg..",
                        "io.clonefs.remote..", "io.clonefs.daemon..", "io.clonefs.webhook..", "io.clonefs.ui..", "io.clonefs.cli..")
                .should().dependOnClassesThat().resideInAPackage("io.clonefs.metadata..")
                .because("above the engine, trees are seen as the engine's records (VolumeFs, SnapshotItem), never as LMDB keys")
                .check(classes);
    }

    @Test
    void nativeTypesStayInTheirAdapters() {
        noClasses().that().resideOutsideOfPackages("io.clonefs.fuse..", "io.clonefs.base..")
                .should().dependOnClassesThat().resideInAnyPackage("jnr..", "ru.serce.jnrfuse..", "com.kenai.jffi..")
                .because("jnr types never leave the FUSE adapter and the one libc binding")
                .check(classes);
    }

    @Test
    void noPackageCycles() {
        slices().matching("io.clonefs.(**)").should().beFreeOfCycles()
                .because("dependencies between packages run one way (docs/architecture.md)")
                .check(classes);
    }
}
