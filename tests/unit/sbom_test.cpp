// The SBOM writers' choices that the JSON schemas cannot check: license
// forms, the subject, evidence and references. tests/integration/sbom_test.py
// validates whole documents against the official schemas.
#include <gtest/gtest.h>

#include <sstream>

#include "core/document.hpp"
#include "report/sbom.hpp"

namespace kg {
namespace {

TEST(SbomLicense, IdsExpressionsAndNames) {
  EXPECT_EQ(classify_license("mit").kind, LicenseForm::Id);
  EXPECT_EQ(classify_license("mit").text, "MIT");
  EXPECT_EQ(classify_license("GPL-2.0-or-later").text, "GPL-2.0-or-later");
  const LicenseForm e = classify_license("(mit OR apache-2.0) AND GPL-2.0-only WITH Classpath-exception-2.0");
  EXPECT_EQ(e.kind, LicenseForm::Expression);
  EXPECT_EQ(e.text, "(MIT OR Apache-2.0) AND GPL-2.0-only WITH Classpath-exception-2.0");
  // Debian's short names and apk's space-separated lists are not SPDX.
  EXPECT_EQ(classify_license("GPL-2+").kind, LicenseForm::Name);
  EXPECT_EQ(classify_license("MIT BSD").kind, LicenseForm::Name);
  EXPECT_EQ(classify_license("MIT AND Frobnicate").kind, LicenseForm::Name);
  EXPECT_EQ(classify_license("  ").kind, LicenseForm::None);
  EXPECT_TRUE(canonical_spdx_id("Not-A-License").empty());
}

ImageInventory sample() {
  ImageInventory inv;
  inv.reference = "registry.example/team/shop:1.0";
  inv.manifest_digest = "sha256:" + std::string(64, 'a');
  inv.layers.push_back({"sha256:" + std::string(64, 'b'), "sha256:" + std::string(64, 'c'), "", 10, ""});
  inv.os.id = "debian";
  inv.os.version_id = "12";
  Package p;
  p.type = PackageType::Deb;
  p.name = "libc6";
  p.version = "2.36-9+deb12u7";
  p.license = "GPL-2+ AND LGPL-2.1";
  p.purl = "pkg:deb/debian/libc6@2.36-9%2Bdeb12u7?arch=amd64&distro=debian-12";
  p.evidence.push_back({"/var/lib/dpkg/status", inv.layers[0].digest});
  inv.packages.push_back(p);
  inv.packages.push_back(p);  // the same package twice: references stay unique
  Package m;
  m.type = PackageType::Maven;
  m.name = "com.google.guava:guava";
  m.version = "33.0.0-jre";
  m.license = "Apache-2.0";
  m.purl = "pkg:maven/com.google.guava/guava@33.0.0-jre";
  inv.packages.push_back(m);
  return inv;
}

ImageInventory sample_with_colliding_license() {
  ImageInventory inv = sample();
  Package q = inv.packages[0];
  q.name = "libc-bin";
  q.license = "GPL 2+ AND LGPL 2.1";
  inv.packages.push_back(q);
  return inv;
}

struct Parsed {
  SourceFile f;
  const Node* root = nullptr;
};

void parse(const std::string& text, Parsed& out) {
  out.f.path = "sbom.json";
  out.f.content = text;
  load_documents(out.f);
  ASSERT_TRUE(out.f.errors.empty());
  ASSERT_EQ(out.f.documents.size(), 1u);
  out.root = out.f.documents[0].root;
}

TEST(SbomCycloneDx, SubjectComponentsEvidence) {
  std::ostringstream out;
  write_cyclonedx(sample(), out, {"2026-12-04T00:00:00Z", "00000000-0000-4000-8000-000000000000"});
  Parsed p;
  parse(out.str(), p);
  EXPECT_EQ(str(get(p.root, "specVersion")), "1.6");
  EXPECT_EQ(str(get(p.root, "serialNumber")), "urn:uuid:00000000-0000-4000-8000-000000000000");
  const Node* subject = get(get(p.root, "metadata"), "component");
  EXPECT_EQ(str(get(subject, "type")), "container");
  EXPECT_EQ(str(get(subject, "version")), "sha256:" + std::string(64, 'a'));
  EXPECT_EQ(str(get(subject, "purl")), "pkg:oci/shop@sha256%3A" + std::string(64, 'a'));
  const auto comps = items(get(p.root, "components"));
  ASSERT_EQ(comps.size(), 4u);
  EXPECT_EQ(str(get(comps[0], "type")), "operating-system");
  EXPECT_NE(str(get(comps[1], "bom-ref")), str(get(comps[2], "bom-ref")));
  EXPECT_EQ(str(get(items(get(get(comps[1], "evidence"), "occurrences"))[0], "location")), "/var/lib/dpkg/status");
  EXPECT_EQ(str(get(get(items(get(comps[1], "licenses"))[0], "license"), "name")), "GPL-2+ AND LGPL-2.1");
  EXPECT_EQ(str(get(comps[3], "group")), "com.google.guava");
  EXPECT_EQ(str(get(comps[3], "name")), "guava");
  EXPECT_EQ(str(get(get(items(get(comps[3], "licenses"))[0], "license"), "id")), "Apache-2.0");
  bool layer = false;
  for (const Node* prop : items(get(comps[1], "properties")))
    layer = layer || (str(get(prop, "name")) == "kguard:package:layer" && str(get(prop, "value")) == "sha256:" + std::string(64, 'b'));
  EXPECT_TRUE(layer);
}

TEST(SbomSpdx, DescribesTheImageAndRefsUnknownLicenses) {
  std::ostringstream out;
  write_spdx(sample_with_colliding_license(), out, {"2026-12-04T00:00:00Z", "00000000-0000-4000-8000-000000000000"});
  Parsed p;
  parse(out.str(), p);
  EXPECT_EQ(str(get(p.root, "spdxVersion")), "SPDX-2.3");
  const auto rels = items(get(p.root, "relationships"));
  ASSERT_FALSE(rels.empty());
  EXPECT_EQ(str(get(rels[0], "relationshipType")), "DESCRIBES");
  EXPECT_EQ(str(get(rels[0], "relatedSpdxElement")), "SPDXRef-Image");
  const auto pkgs = items(get(p.root, "packages"));
  ASSERT_EQ(pkgs.size(), 6u);  // image, OS, four packages
  EXPECT_EQ(str(get(pkgs[2], "licenseDeclared")), "LicenseRef-GPL-2--AND-LGPL-2.1");
  EXPECT_EQ(str(get(pkgs[4], "licenseDeclared")), "Apache-2.0");
  EXPECT_EQ(str(get(items(get(pkgs[2], "externalRefs"))[0], "referenceLocator")),
            "pkg:deb/debian/libc6@2.36-9%2Bdeb12u7?arch=amd64&distro=debian-12");
  const auto extracted = items(get(p.root, "hasExtractedLicensingInfos"));
  ASSERT_EQ(extracted.size(), 2u);
  // "GPL 2+ AND LGPL 2.1" sanitises to the same id as "GPL-2+ AND LGPL-2.1": numbered, not merged.
  EXPECT_EQ(str(get(pkgs[5], "licenseDeclared")), "LicenseRef-GPL-2--AND-LGPL-2.1-2");
  EXPECT_EQ(str(get(extracted[1], "extractedText")), "GPL 2+ AND LGPL 2.1");
  EXPECT_EQ(str(get(extracted[0], "extractedText")), "GPL-2+ AND LGPL-2.1");
  EXPECT_NE(str(get(pkgs[2], "sourceInfo")).find("/var/lib/dpkg/status (layer sha256:b"), std::string_view::npos);
}

}  // namespace
}  // namespace kg
