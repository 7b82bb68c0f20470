// CVSS scores and the risk score (engines/vuln/score). Every expected score
// comes from a source other than kguard:
//   - FIRST's CVSS v3.0 and v3.1 "Examples" documents (first.org/cvss/v3-1/
//     examples, v3-0/examples): the vulnerabilities named beside each vector,
//     with the v3.0 User Guide's example;
//   - NVD's own base scores of the CVSS:3.1 vectors in the NVD records of
//     Grype's matcher fixtures (shared corpora, supply-chain/grype-fixtures/
//     anchore/grype/grype/matcher/*/testdata/*/nvd/results/*.json);
//   - FIRST's CVSS v4.0 "Examples" document (first.org/cvss/v4-0/examples);
//   - FIRST's v4.0 calculator validation set, FIRSTdotorg/cvss-resources
//     vectorFiles/reference-scores (the max-equivalency-set vectors at its head
//     and full vectors with every metric group from its body).
// tests/integration/cvss_crosscheck_test.py compares all base vectors and
// 2,000 random full ones with the PyPI `cvss` package.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "engines/vuln/db/records.hpp"
#include "engines/vuln/score/cvss.hpp"
#include "engines/vuln/score/risk.hpp"

namespace kg::vuln {
namespace {

struct Scored {
  const char* vector;
  double score;
};

// FIRST CVSS v3.0 / v3.1 Examples documents (base scores).
const Scored kFirstV3Examples[] = {
    {"CVSS:3.0/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", 6.1},  // CVE-2013-1937 phpMyAdmin XSS
    {"CVSS:3.0/AV:N/AC:L/PR:L/UI:N/S:C/C:L/I:L/A:N",
     6.4},  // CVE-2013-0375 MySQL stored SQL injection
    {"CVSS:3.0/AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:N/A:N", 3.1},  // CVE-2014-3566 SSLv3 POODLE
    {"CVSS:3.0/AV:N/AC:L/PR:L/UI:N/S:C/C:H/I:H/A:H",
     9.9},  // CVE-2012-1516 VMware guest to host escape
    {"CVSS:3.0/AV:L/AC:L/PR:H/UI:N/S:U/C:L/I:L/A:L",
     4.2},  // CVE-2009-0783 Apache Tomcat XML parser
    {"CVSS:3.0/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H",
     8.8},  // CVE-2012-0384 Cisco IOS command execution
    {"CVSS:3.0/AV:L/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H",
     7.8},  // CVE-2015-1098 Apple iWork / CVE-2009-0658 Adobe Acrobat
    {"CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N", 7.5},  // CVE-2014-0160 Heartbleed
    {"CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8},  // CVE-2014-6271 Shellshock
    {"CVSS:3.0/AV:N/AC:H/PR:N/UI:N/S:C/C:N/I:H/A:N", 6.8},  // CVE-2008-1447 DNS Kaminsky
    {"CVSS:3.0/AV:P/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 6.8},  // CVE-2014-2005 Sophos login bypass
    {"CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:C/C:L/I:N/A:N",
     5.8},  // CVE-2010-0467 Joomla directory traversal
    {"CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:C/C:N/I:L/A:N", 5.8},  // CVE-2012-1342 Cisco ACL bypass
    {"CVSS:3.0/AV:A/AC:L/PR:N/UI:N/S:C/C:H/I:N/A:H", 9.3},  // CVE-2013-6014 Juniper proxy ARP DoS
    {"CVSS:3.0/AV:N/AC:L/PR:L/UI:R/S:C/C:L/I:L/A:N", 5.4},  // CVE-2014-9253 DokuWiki XSS
    {"CVSS:3.0/AV:L/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H",
     7.8},  // CVE-2015-1098 Apple iWork / CVE-2009-0658 Adobe Acrobat
    {"CVSS:3.0/AV:A/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 8.8},  // CVE-2011-1265 Windows Bluetooth RCE
    {"CVSS:3.0/AV:P/AC:L/PR:N/UI:N/S:U/C:N/I:H/A:N",
     4.6},  // CVE-2014-2019 Apple iOS control bypass
    {"CVSS:3.0/AV:L/AC:L/PR:N/UI:N/S:U/C:N/I:L/A:N", 4.0},  // v3.0 user guide example
    {"CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:L/I:L/A:N",
     6.4},  // CVE-2013-0375 MySQL stored SQL injection
    {"CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:N/A:N", 3.1},  // CVE-2014-3566 SSLv3 POODLE
    {"CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:H/I:H/A:H",
     9.9},  // CVE-2012-1516 VMware guest to host escape
    {"CVSS:3.1/AV:L/AC:L/PR:H/UI:N/S:U/C:L/I:L/A:L",
     4.2},  // CVE-2009-0783 Apache Tomcat XML parser
    {"CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:H/I:H/A:H", 7.2},  // CVE-2012-0384 Cisco IOS (v3.1 PR:H)
    {"CVSS:3.1/AV:L/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H",
     7.8},  // CVE-2015-1098 Apple iWork / CVE-2009-0658 Adobe Acrobat
    {"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N", 7.5},  // CVE-2014-0160 Heartbleed
    {"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8},  // CVE-2014-6271 Shellshock
    {"CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:C/C:N/I:H/A:N", 6.8},  // CVE-2008-1447 DNS Kaminsky
    {"CVSS:3.1/AV:P/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 6.8},  // CVE-2014-2005 Sophos login bypass
    {"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:L/I:N/A:N",
     5.8},  // CVE-2010-0467 Joomla directory traversal
    {"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:N/I:L/A:N", 5.8},  // CVE-2012-1342 Cisco ACL bypass
    {"CVSS:3.1/AV:A/AC:L/PR:N/UI:N/S:C/C:H/I:N/A:H", 9.3},  // CVE-2013-6014 Juniper proxy ARP DoS
    {"CVSS:3.1/AV:N/AC:L/PR:L/UI:R/S:C/C:H/I:H/A:H", 9.0},  // CVE-2019-7551 Cantemo Portal XSS
    {"CVSS:3.1/AV:A/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 8.8},  // CVE-2011-1265 Windows Bluetooth RCE
    {"CVSS:3.1/AV:P/AC:L/PR:N/UI:N/S:U/C:N/I:H/A:N",
     4.6},  // CVE-2014-2019 Apple iOS control bypass
    {"CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H", 8.8},  // CVE-2015-0970 SearchBlox CSRF
};

// NVD base scores of NVD records in the shared corpora (Grype's fixtures).
const Scored kNvdV31[] = {
    {"CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:N/I:N/A:H", 5.5},
    {"CVSS:3.1/AV:L/AC:L/PR:N/UI:R/S:U/C:N/I:N/A:H", 5.5},
    {"CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:C/C:L/I:L/A:L", 6.5},
    {"CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:N", 7.4},
    {"CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:H", 7.4},
    {"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:L/A:L", 7.3},
    {"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H", 7.5},
    {"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:L", 5.3},
};

// FIRST CVSS v4.0 Examples document: the score of each vector as written
// (CVSS-B, -BT or -BE). One entry is left out: a third-party transcription gave
// "AV:N/AC:H/AT:P/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N" 8.2, where FIRST's
// calculator, the PyPI package and kguard all give 9.2.
const Scored kFirstV4Examples[] = {
    {"CVSS:4.0/AV:L/AC:L/AT:P/PR:L/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", 7.3},
    {"CVSS:4.0/AV:N/AC:L/AT:P/PR:N/UI:P/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", 7.7},
    {"CVSS:4.0/AV:N/AC:L/AT:P/PR:N/UI:P/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/E:U", 5.2},
    {"CVSS:4.0/AV:N/AC:L/AT:P/PR:N/UI:N/VC:H/VI:L/VA:L/SC:N/SI:N/SA:N", 8.3},
    {"CVSS:4.0/AV:N/AC:L/AT:P/PR:N/UI:N/VC:H/VI:L/VA:L/SC:N/SI:N/SA:N/CR:H/IR:L/AR:L/MAV:N/MAC:H/"
     "MVC:H/MVI:L/MVA:L",
     8.1},
    {"CVSS:4.0/AV:L/AC:L/AT:N/PR:N/UI:A/VC:L/VI:N/VA:N/SC:N/SI:N/SA:N", 4.6},
    {"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:A/VC:N/VI:N/VA:N/SC:L/SI:L/SA:N", 5.1},
    {"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:N/SC:L/SI:L/SA:N", 6.9},
    {"CVSS:4.0/AV:L/AC:L/AT:N/PR:H/UI:N/VC:N/VI:N/VA:N/SC:H/SI:N/SA:N", 5.9},
    {"CVSS:4.0/AV:L/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H", 9.4},
    {"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:H/VA:N/SC:H/SI:H/SA:H", 9.3},
    {"CVSS:4.0/AV:P/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:H/SA:N/S:P/V:D", 8.3},
    {"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:N/VA:N/SC:N/SI:N/SA:N/E:A", 8.7},
    {"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/E:A", 9.3},
    {"CVSS:4.0/AV:N/AC:H/AT:P/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/E:P/MAC:L/MAT:N/MVC:N/MVI:N/"
     "MVA:L",
     5.5},
    {"CVSS:4.0/AV:A/AC:L/AT:N/PR:N/UI:N/VC:N/VI:L/VA:N/SC:H/SI:N/SA:H", 6.4},
    {"CVSS:4.0/AV:L/AC:L/AT:N/PR:H/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/R:I", 8.4},
    {"CVSS:4.0/AV:L/AC:L/AT:N/PR:L/UI:N/VC:H/VI:N/VA:N/SC:N/SI:N/SA:N/E:A", 6.8},
};

// FIRSTdotorg/cvss-resources vectorFiles/reference-scores.
const Scored kFirstV4Reference[] = {
    {"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H/E:A/CR:H/IR:H/AR:H/MSI:S/"
     "MSA:S",
     10.0},
    {"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H/E:P/CR:H/IR:H/AR:H/MSI:S/"
     "MSA:S",
     9.8},
    {"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H/E:U/CR:H/IR:H/AR:H/MSI:S/"
     "MSA:S",
     9.5},
    {"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H/E:P/CR:H/IR:H/AR:H", 9.3},
    {"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:L/SI:L/SA:L/E:U/CR:H/IR:H/AR:H", 8.1},
    {"CVSS:4.0/AV:N/AC:L/AT:P/PR:N/UI:N/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H/E:A/CR:H/IR:H/AR:H/MSI:S/"
     "MSA:S",
     9.9},
    {"CVSS:4.0/AV:N/AC:L/AT:P/PR:N/UI:N/VC:H/VI:H/VA:H/SC:L/SI:L/SA:L/E:U/CR:H/IR:H/AR:H", 7.2},
    {"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H/E:A/CR:M/IR:M/AR:M", 9.6},
    {"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:L/SI:L/SA:L/E:U/CR:M/IR:M/AR:M", 6.8},
    {"CVSS:4.0/AV:N/AC:L/AT:P/PR:N/UI:N/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H/E:U/CR:M/IR:M/AR:M/MSI:S/"
     "MSA:S",
     8.5},
    {"CVSS:4.0/AV:N/AC:L/AT:P/PR:N/UI:N/VC:H/VI:H/VA:H/SC:L/SI:L/SA:L/E:U/CR:M/IR:M/AR:M", 5.3},
    {"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:L/VI:H/VA:H/SC:H/SI:H/SA:H/E:U/CR:H/IR:H/AR:H/MSI:S/"
     "MSA:S",
     9.0},
    {"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:L/VI:H/VA:H/SC:L/SI:L/SA:L/E:U/CR:H/IR:H/AR:H", 6.9},
    {"CVSS:4.0/AV:N/AC:L/AT:P/PR:N/UI:N/VC:L/VI:H/VA:H/SC:L/SI:L/SA:L/E:U/CR:H/IR:H/AR:H", 5.0},
    {"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:L/VA:H/SC:H/SI:H/SA:H/E:U/CR:M/IR:H/AR:M", 6.5},
    {"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:L/VA:H/SC:L/SI:L/SA:L/E:U/CR:M/IR:H/AR:M", 4.8},
    {"CVSS:4.0/AV:N/AC:L/AT:P/PR:N/UI:N/VC:H/VI:L/VA:H/SC:L/SI:L/SA:L/E:U/CR:M/IR:H/AR:M", 3.0},
    {"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:L/VI:L/VA:L/SC:H/SI:H/SA:H/E:U/CR:H/IR:H/AR:H", 5.0},
    {"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:L/VI:L/VA:L/SC:L/SI:L/SA:L/E:U/CR:H/IR:H/AR:H", 2.7},
    {"CVSS:4.0/AV:N/AC:L/AT:P/PR:N/UI:N/VC:L/VI:L/VA:L/SC:L/SI:L/SA:L/E:U/CR:H/IR:H/AR:H", 1.7},
    {"CVSS:4.0/AV:A/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H/E:U/CR:H/IR:H/AR:H/MSI:S/"
     "MSA:S",
     9.1},
    {"CVSS:4.0/AV:A/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:L/SI:L/SA:L/E:U/CR:H/IR:H/AR:H", 6.3},
    {"CVSS:4.0/AV:A/AC:L/AT:P/PR:N/UI:N/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H/E:U/CR:H/IR:H/AR:H", 6.1},
    {"CVSS:4.0/AV:A/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H/E:U/CR:M/IR:M/AR:M", 6.4},
    {"CVSS:4.0/AV:A/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:L/SI:L/SA:L/E:P/CR:M/IR:M/AR:M", 6.3},
    {"CVSS:4.0/AV:P/AC:L/AT:N/PR:L/UI:A/VC:N/VI:H/VA:L/SC:H/SI:H/SA:H/E:P/CR:H/IR:H/AR:H/MAV:A/"
     "MAC:X/MAT:N/MPR:X/MUI:X/MVC:N/MVI:H/MVA:H/MSC:N/MSI:H/MSA:S/S:N/AU:X/R:I/V:X/RE:M/U:Clear",
     7.1},
    {"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:H/SC:H/SI:L/SA:L/E:A/CR:H/IR:X/AR:H/MAV:P/"
     "MAC:X/MAT:X/MPR:H/MUI:A/MVC:H/MVI:X/MVA:X/MSC:L/MSI:L/MSA:H/S:X/AU:Y/R:A/V:X/RE:L/U:Green",
     7.0},
    {"CVSS:4.0/AV:N/AC:H/AT:N/PR:N/UI:P/VC:N/VI:N/VA:H/SC:H/SI:N/SA:N/E:A/CR:M/IR:X/AR:M/MAV:N/"
     "MAC:L/MAT:P/MPR:N/MUI:A/MVC:L/MVI:X/MVA:H/MSC:H/MSI:N/MSA:L/S:N/AU:N/R:A/V:X/RE:L/U:Red",
     5.7},
    {"CVSS:4.0/AV:N/AC:L/AT:N/PR:L/UI:N/VC:H/VI:L/VA:H/SC:L/SI:H/SA:N/E:X/CR:H/IR:X/AR:X/MAV:A/"
     "MAC:X/MAT:P/MPR:X/MUI:N/MVC:X/MVI:N/MVA:L/MSC:X/MSI:X/MSA:L/S:P/AU:Y/R:U/V:C/RE:M/U:Red",
     7.1},
    {"CVSS:4.0/AV:L/AC:H/AT:P/PR:H/UI:N/VC:N/VI:H/VA:L/SC:L/SI:H/SA:N/E:U/CR:X/IR:L/AR:H/MAV:P/"
     "MAC:L/MAT:P/MPR:X/MUI:A/MVC:N/MVI:X/MVA:X/MSC:L/MSI:H/MSA:X/S:N/AU:X/R:X/V:C/RE:H/U:Amber",
     0.6},
    {"CVSS:4.0/AV:N/AC:H/AT:N/PR:N/UI:A/VC:H/VI:H/VA:N/SC:N/SI:N/SA:H/E:X/CR:X/IR:X/AR:M/MAV:N/"
     "MAC:X/MAT:X/MPR:L/MUI:A/MVC:H/MVI:N/MVA:X/MSC:H/MSI:N/MSA:N/S:X/AU:X/R:X/V:C/RE:M/U:Green",
     6.8},
    {"CVSS:4.0/AV:L/AC:L/AT:P/PR:L/UI:P/VC:L/VI:N/VA:N/SC:N/SI:L/SA:N/E:U/CR:X/IR:X/AR:X/MAV:L/"
     "MAC:H/MAT:P/MPR:H/MUI:A/MVC:L/MVI:X/MVA:H/MSC:X/MSI:N/MSA:N/S:X/AU:Y/R:I/V:C/RE:H/U:Red",
     0.7},
    {"CVSS:4.0/AV:P/AC:L/AT:N/PR:H/UI:A/VC:H/VI:L/VA:H/SC:N/SI:N/SA:L/E:X/CR:X/IR:H/AR:M/MAV:P/"
     "MAC:L/MAT:N/MPR:H/MUI:N/MVC:N/MVI:N/MVA:L/MSC:N/MSI:L/MSA:S/S:X/AU:Y/R:X/V:C/RE:L/U:Clear",
     6.0},
    {"CVSS:4.0/AV:N/AC:H/AT:P/PR:L/UI:P/VC:H/VI:L/VA:H/SC:H/SI:N/SA:N/E:A/CR:X/IR:H/AR:M/MAV:L/"
     "MAC:H/MAT:P/MPR:N/MUI:P/MVC:N/MVI:H/MVA:N/MSC:L/MSI:N/MSA:L/S:P/AU:X/R:I/V:X/RE:H/U:Green",
     5.7},
    {"CVSS:4.0/AV:A/AC:H/AT:N/PR:H/UI:P/VC:N/VI:H/VA:H/SC:L/SI:L/SA:N/E:X/CR:H/IR:L/AR:L/MAV:P/"
     "MAC:X/MAT:X/MPR:L/MUI:P/MVC:X/MVI:L/MVA:L/MSC:H/MSI:H/MSA:X/S:P/AU:X/R:I/V:C/RE:H/U:Red",
     2.1},
    {"CVSS:4.0/AV:A/AC:L/AT:N/PR:N/UI:P/VC:N/VI:H/VA:H/SC:H/SI:N/SA:L/E:A/CR:H/IR:M/AR:M/MAV:N/"
     "MAC:X/MAT:P/MPR:X/MUI:A/MVC:H/MVI:L/MVA:L/MSC:X/MSI:S/MSA:L/S:P/AU:X/R:X/V:C/RE:L/U:Clear",
     8.6},
    {"CVSS:4.0/AV:N/AC:L/AT:P/PR:H/UI:N/VC:H/VI:L/VA:L/SC:H/SI:H/SA:H/E:X/CR:L/IR:L/AR:X/MAV:L/"
     "MAC:H/MAT:P/MPR:L/MUI:A/MVC:N/MVI:N/MVA:X/MSC:H/MSI:L/MSA:S/S:P/AU:N/R:U/V:X/RE:L/U:Green",
     4.8},
    {"CVSS:4.0/AV:L/AC:L/AT:P/PR:N/UI:N/VC:N/VI:H/VA:N/SC:L/SI:H/SA:H/E:A/CR:L/IR:M/AR:X/MAV:L/"
     "MAC:L/MAT:P/MPR:N/MUI:N/MVC:H/MVI:L/MVA:L/MSC:H/MSI:N/MSA:X/S:N/AU:X/R:U/V:D/RE:X/U:Amber",
     5.8},
    {"CVSS:4.0/AV:N/AC:H/AT:P/PR:L/UI:A/VC:L/VI:L/VA:H/SC:L/SI:N/SA:L/E:U/CR:X/IR:H/AR:M/MAV:L/"
     "MAC:X/MAT:P/MPR:H/MUI:X/MVC:L/MVI:N/MVA:N/MSC:L/MSI:S/MSA:H/S:N/AU:X/R:U/V:D/RE:H/U:Red",
     1.1},
    {"CVSS:4.0/AV:L/AC:H/AT:P/PR:H/UI:N/VC:H/VI:L/VA:L/SC:L/SI:H/SA:L/E:P/CR:M/IR:H/AR:H/MAV:X/"
     "MAC:X/MAT:P/MPR:H/MUI:N/MVC:X/MVI:N/MVA:L/MSC:N/MSI:H/MSA:L/S:X/AU:N/R:I/V:D/RE:H/U:Amber",
     4.5},
    {"CVSS:4.0/AV:P/AC:H/AT:P/PR:N/UI:N/VC:L/VI:N/VA:H/SC:N/SI:H/SA:H/E:U/CR:M/IR:H/AR:X/MAV:A/"
     "MAC:L/MAT:P/MPR:H/MUI:N/MVC:X/MVI:X/MVA:X/MSC:N/MSI:H/MSA:X/S:N/AU:N/R:X/V:C/RE:M/U:Clear",
     3.6},
    {"CVSS:4.0/AV:N/AC:L/AT:N/PR:L/UI:N/VC:L/VI:L/VA:N/SC:N/SI:H/SA:N/E:U/CR:X/IR:M/AR:L/MAV:P/"
     "MAC:L/MAT:N/MPR:H/MUI:P/MVC:N/MVI:N/MVA:H/MSC:X/MSI:N/MSA:H/S:N/AU:N/R:U/V:C/RE:L/U:Clear",
     1.5},
    {"CVSS:4.0/AV:N/AC:H/AT:N/PR:N/UI:A/VC:N/VI:L/VA:H/SC:H/SI:N/SA:H/E:A/CR:L/IR:L/AR:M/MAV:X/"
     "MAC:L/MAT:P/MPR:H/MUI:N/MVC:H/MVI:H/MVA:H/MSC:X/MSI:N/MSA:N/S:P/AU:X/R:I/V:X/RE:M/U:Green",
     7.2},
    {"CVSS:4.0/AV:N/AC:H/AT:P/PR:N/UI:P/VC:H/VI:N/VA:L/SC:L/SI:L/SA:L/E:U/CR:L/IR:H/AR:H/MAV:P/"
     "MAC:X/MAT:N/MPR:L/MUI:P/MVC:L/MVI:L/MVA:X/MSC:X/MSI:H/MSA:X/S:X/AU:X/R:A/V:X/RE:X/U:X",
     0.3},
    {"CVSS:4.0/AV:L/AC:H/AT:P/PR:L/UI:A/VC:N/VI:N/VA:H/SC:L/SI:L/SA:H/E:U/CR:X/IR:H/AR:L/MAV:X/"
     "MAC:H/MAT:P/MPR:H/MUI:P/MVC:H/MVI:H/MVA:X/MSC:L/MSI:X/MSA:S/S:P/AU:Y/R:A/V:D/RE:L/U:X",
     5.4},
    {"CVSS:4.0/AV:P/AC:L/AT:N/PR:H/UI:N/VC:N/VI:N/VA:N/SC:L/SI:N/SA:L/E:X/CR:X/IR:X/AR:M/MAV:A/"
     "MAC:X/MAT:X/MPR:H/MUI:P/MVC:L/MVI:L/MVA:N/MSC:X/MSI:L/MSA:X/S:P/AU:N/R:X/V:D/RE:X/U:Clear",
     2.4},
    {"CVSS:4.0/AV:A/AC:H/AT:P/PR:N/UI:A/VC:L/VI:L/VA:H/SC:N/SI:N/SA:N/E:U/CR:M/IR:M/AR:X/MAV:L/"
     "MAC:L/MAT:X/MPR:H/MUI:P/MVC:L/MVI:N/MVA:H/MSC:H/MSI:L/MSA:N/S:P/AU:Y/R:X/V:D/RE:L/U:Green",
     1.4},
    {"CVSS:4.0/AV:P/AC:H/AT:N/PR:L/UI:N/VC:N/VI:L/VA:N/SC:L/SI:N/SA:N/E:X/CR:M/IR:X/AR:H/MAV:X/"
     "MAC:L/MAT:X/MPR:X/MUI:A/MVC:H/MVI:H/MVA:X/MSC:H/MSI:X/MSA:L/S:P/AU:X/R:X/V:X/RE:M/U:X",
     8.2},
    {"CVSS:4.0/AV:L/AC:L/AT:P/PR:N/UI:P/VC:H/VI:N/VA:N/SC:N/SI:N/SA:H/E:X/CR:H/IR:H/AR:X/MAV:L/"
     "MAC:L/MAT:X/MPR:N/MUI:X/MVC:N/MVI:X/MVA:H/MSC:L/MSI:S/MSA:S/S:N/AU:X/R:A/V:X/RE:H/U:Green",
     8.6},
    {"CVSS:4.0/AV:P/AC:H/AT:N/PR:H/UI:A/VC:L/VI:L/VA:H/SC:L/SI:L/SA:H/E:U/CR:H/IR:X/AR:H/MAV:X/"
     "MAC:H/MAT:X/MPR:X/MUI:P/MVC:N/MVI:H/MVA:N/MSC:H/MSI:S/MSA:S/S:N/AU:N/R:A/V:X/RE:M/U:Red",
     3.6},
    {"CVSS:4.0/AV:N/AC:L/AT:P/PR:N/UI:N/VC:N/VI:L/VA:L/SC:L/SI:N/SA:L/E:A/CR:L/IR:M/AR:X/MAV:L/"
     "MAC:L/MAT:N/MPR:X/MUI:N/MVC:H/MVI:H/MVA:X/MSC:L/MSI:H/MSA:H/S:N/AU:X/R:X/V:X/RE:X/U:Green",
     8.7},
    {"CVSS:4.0/AV:P/AC:H/AT:N/PR:L/UI:P/VC:H/VI:N/VA:N/SC:L/SI:L/SA:L/E:A/CR:X/IR:M/AR:X/MAV:L/"
     "MAC:L/MAT:X/MPR:N/MUI:P/MVC:N/MVI:N/MVA:H/MSC:L/MSI:S/MSA:H/S:N/AU:Y/R:U/V:X/RE:M/U:Amber",
     9.2},
    {"CVSS:4.0/AV:A/AC:L/AT:P/PR:L/UI:A/VC:H/VI:N/VA:H/SC:N/SI:N/SA:N/E:A/CR:X/IR:H/AR:L/MAV:P/"
     "MAC:H/MAT:X/MPR:N/MUI:X/MVC:N/MVI:H/MVA:L/MSC:L/MSI:L/MSA:X/S:P/AU:N/R:U/V:C/RE:H/U:Clear",
     3.9},
    {"CVSS:4.0/AV:L/AC:H/AT:N/PR:N/UI:P/VC:L/VI:N/VA:L/SC:L/SI:L/SA:N/E:U/CR:M/IR:X/AR:X/MAV:X/"
     "MAC:L/MAT:X/MPR:X/MUI:P/MVC:H/MVI:N/MVA:N/MSC:H/MSI:S/MSA:X/S:X/AU:X/R:I/V:C/RE:H/U:X",
     6.2},
    {"CVSS:4.0/AV:L/AC:H/AT:P/PR:L/UI:N/VC:N/VI:H/VA:H/SC:L/SI:L/SA:N/E:A/CR:M/IR:L/AR:H/MAV:A/"
     "MAC:X/MAT:N/MPR:L/MUI:A/MVC:H/MVI:H/MVA:X/MSC:H/MSI:N/MSA:N/S:N/AU:Y/R:X/V:D/RE:L/U:X",
     6.6},
};

double score_of(const char* v) {
  std::string error;
  auto s = cvss_scores(v, &error);
  EXPECT_TRUE(s.has_value()) << v << ": " << error;
  return s ? s->overall() : -1;
}

TEST(Cvss, FirstV3Examples) {
  int n = 0;
  for (const Scored& e : kFirstV3Examples) {
    EXPECT_DOUBLE_EQ(score_of(e.vector), e.score) << e.vector;
    ++n;
  }
  for (const Scored& e : kNvdV31) {
    EXPECT_DOUBLE_EQ(score_of(e.vector), e.score) << e.vector;
    ++n;
  }
  EXPECT_GE(n, 40);
}

TEST(Cvss, V3TemporalAndEnvironmental) {
  // FIRST v3.1 calculator / NVD calculator values.
  struct Full {
    const char* vector;
    double base, temporal, environmental;
    bool has_t, has_e;
  };
  const Full cases[] = {
      {"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:F/RL:O/RC:R", 9.8, 8.7, 8.7, true, false},
      {"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:H/A:N/E:F/RL:O/RC:R", 7.5, 6.7, 6.7, true, false},
      {"CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:C/C:H/I:H/A:H/E:F/RL:O/RC:R", 9.0, 8.0, 8.1, true, false},
      {"CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:L/I:L/A:N/E:F/CR:L/IR:M/AR:H/MAV:N/MAC:L/MPR:H/MUI:R/"
       "MS:C/MC:L/MI:H/MA:N",
       3.8, 3.7, 6.5, true, true},
      // MPR:H weighs 0.50 under MS:C, not 0.27.
      {"CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:L/I:L/A:N/CR:M/IR:M/AR:M/MAV:N/MAC:L/MPR:H/MUI:N/MS:C/"
       "MC:L/MI:L/MA:N",
       3.8, 3.8, 5.5, false, true},
      {"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:X/RL:X/RC:X/CR:X/IR:X/AR:X/MAV:X/MAC:X/"
       "MPR:X/MUI:X/MS:X/MC:X/"
       "MI:X/MA:X",
       9.8, 9.8, 9.8, false, false},
  };
  for (const Full& c : cases) {
    auto s = cvss_scores(c.vector);
    ASSERT_TRUE(s) << c.vector;
    EXPECT_DOUBLE_EQ(s->base, c.base) << c.vector;
    EXPECT_DOUBLE_EQ(s->temporal, c.temporal) << c.vector;
    EXPECT_DOUBLE_EQ(s->environmental, c.environmental) << c.vector;
    EXPECT_EQ(s->has_temporal, c.has_t) << c.vector;
    EXPECT_EQ(s->has_environmental, c.has_e) << c.vector;
  }
}

TEST(Cvss, RoundupIsAppendixA) {
  EXPECT_DOUBLE_EQ(cvss3_roundup(4.02), 4.1);  // the specification's own examples
  EXPECT_DOUBLE_EQ(cvss3_roundup(4.00), 4.0);
  EXPECT_DOUBLE_EQ(cvss3_roundup(4.000000000000001), 4.0);  // ceil(x*10)/10 says 4.1
  EXPECT_DOUBLE_EQ(cvss3_roundup(0.0), 0.0);
  EXPECT_DOUBLE_EQ(cvss3_roundup(10.0), 10.0);
  EXPECT_DOUBLE_EQ(cvss3_roundup(9.99), 10.0);
  // Vectors whose Environmental score naive ceil(x*10)/10 gets wrong (the
  // exact value the PyPI package computes with Decimal is the expectation).
  auto s = cvss_scores(
      "CVSS:3.1/AV:A/AC:H/PR:N/UI:R/S:C/C:L/I:N/A:N/RL:U/RC:U/IR:H/AR:H/MAC:X/MPR:N/MI:X/MA:L");
  ASSERT_TRUE(s);
  EXPECT_DOUBLE_EQ(s->environmental, 4.6);
  s = cvss_scores(
      "CVSS:3.1/AV:A/AC:L/PR:L/UI:R/S:C/C:L/I:H/A:H/E:H/RL:X/RC:U/CR:L/IR:X/AR:H/MAV:A/MPR:H/MUI:N/"
      "MC:L/MI:N/"
      "MA:N");
  ASSERT_TRUE(s);
  EXPECT_DOUBLE_EQ(s->environmental, 2.3);
}

TEST(Cvss, FirstV4Examples) {
  int n = 0;
  for (const Scored& e : kFirstV4Examples) {
    EXPECT_DOUBLE_EQ(score_of(e.vector), e.score) << e.vector;
    ++n;
  }
  for (const Scored& e : kFirstV4Reference) {
    EXPECT_DOUBLE_EQ(score_of(e.vector), e.score) << e.vector;
    ++n;
  }
  EXPECT_GE(n, 40);
}

TEST(Cvss, V4BaseNomenclatureAndMacroVector) {
  // CVE-2020-3549 with E:U: CVSS-BT 5.2, its CVSS-B 7.7.
  auto s = cvss_scores("CVSS:4.0/AV:N/AC:L/AT:P/PR:N/UI:P/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/E:U");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->nomenclature, "CVSS-BT");
  EXPECT_DOUBLE_EQ(s->score, 5.2);
  EXPECT_DOUBLE_EQ(s->base, 7.7);
  EXPECT_STREQ(s->macrovector.data(),
               "110220");  // EQ1 1 (UI:P), EQ2 1 (AT:P), EQ3 0, EQ4 2, EQ5 2 (E:U), EQ6 0
  s = cvss_scores("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:L/SC:N/SI:N/SA:N/E:A/MAV:A");
  ASSERT_TRUE(s);  // the reference calculator's documented example
  EXPECT_EQ(s->nomenclature, "CVSS-BTE");
  EXPECT_DOUBLE_EQ(s->score, 8.7);
  EXPECT_DOUBLE_EQ(s->base, 9.3);
  s = cvss_scores("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/CR:L");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->nomenclature, "CVSS-BE");
  // No impact on any system scores 0 whatever else: rating None, no Severity.
  s = cvss_scores("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:N/SC:N/SI:N/SA:N");
  ASSERT_TRUE(s);
  EXPECT_DOUBLE_EQ(s->score, 0.0);
  EXPECT_EQ(cvss_rating(s->score), CvssRating::None);
  EXPECT_FALSE(to_severity(cvss_rating(s->score)).has_value());
  // Supplemental metrics do not change the score; X is "not defined".
  EXPECT_DOUBLE_EQ(score_of("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/S:P/"
                            "AU:Y/R:I/V:C/RE:H/U:Red"),
                   9.3);
  EXPECT_DOUBLE_EQ(
      score_of("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/E:X/CR:X/MAV:X"),
      9.3);
  // The x.x5 ties the reference calculator's epsilon fixes (cvss-v4-calculator#66).
  EXPECT_DOUBLE_EQ(score_of("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:P/VC:H/VI:L/VA:N/SC:H/SI:H/SA:H"),
                   8.6);
}

TEST(Cvss, MetricOrderIsFree) {
  EXPECT_DOUBLE_EQ(score_of("CVSS:3.1/A:H/I:H/C:H/S:U/UI:N/PR:N/AC:L/AV:N"), 9.8);
  EXPECT_DOUBLE_EQ(score_of("CVSS:4.0/SA:N/SI:N/SC:N/VA:H/VI:H/VC:H/UI:N/PR:N/AT:N/AC:L/AV:N"),
                   9.3);
}

TEST(Cvss, MalformedVectorsNameTheFault) {
  struct Bad {
    const char* vector;
    const char* error;
  };
  const Bad cases[] = {
      {"", "is empty"},
      {"AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
       "does not start with CVSS:3.0/, CVSS:3.1/ or CVSS:4.0/"},
      {"CVSS:2.0/AV:N", "unsupported version \"2.0\""},
      {"CVSS:3.1", "has no metrics"},
      {"CVSS:3.1/", "component 1 is empty"},
      {"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/", "component 9 is empty"},
      {"CVSS:3.1/AV:N//AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "component 2 is empty"},
      {"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:Q",
       "metric A has value \"Q\"; expected one of H, L, N"},
      {"CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
       "metric AV has value \"X\"; expected one of N, A, L, P"},
      {"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H", "missing base metric A"},
      {"CVSS:3.1/AV:N/AC:L", "missing base metrics PR, UI, S, C, I, A"},
      {"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/AV:N", "metric AV is given twice"},
      {"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/AT:N", "unknown metric AT"},
      {"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E", "component \"E\" is not METRIC:VALUE"},
      {"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H:H", "component \"A:H:H\" is not METRIC:VALUE"},
      {"CVSS:3.1/AV:n/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "metric AV has value \"n\""},
      {"CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/MSI:S", "unknown metric MSI"},
      {"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N", "missing base metric SA"},
      {"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:S/SA:N",
       "metric SI has value \"S\""},
      {"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/MSC:S",
       "metric MSC has value \"S\""},
      {"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/U:Purple",
       "metric U has value \"Purple\"; expected one of X, Clear, Green, Amber, Red"},
      {"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/U:C",
       "metric U has value \"C\""},  // the word, not its letter
      {"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/U:clear",
       "metric U has value \"clear\""},
      {"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/E:F",
       "metric E has value \"F\""},
      {"CVSS:4.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
       "metric S has value \"U\"; expected one of X, N, P"},
      {"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/RL:O", "unknown metric RL"},
      {"CVSS:3.1/AV:\x01/AC:L", "metric AV has value \"\\x01\""},
  };
  for (const Bad& b : cases) {
    std::string error;
    EXPECT_FALSE(cvss_scores(b.vector, &error).has_value()) << b.vector;
    EXPECT_NE(error.find(b.error), std::string::npos) << b.vector << " -> " << error;
  }
  // A huge vector is named by its first 120 bytes only.
  std::string huge = "CVSS:3.1/" + std::string(100000, 'A');
  std::string error;
  EXPECT_FALSE(cvss_scores(huge, &error));
  EXPECT_LT(error.size(), 400U);
}

TEST(Cvss, RatingScale) {
  EXPECT_EQ(cvss_rating(0.0), CvssRating::None);
  EXPECT_EQ(cvss_rating(0.1), CvssRating::Low);
  EXPECT_EQ(cvss_rating(3.9), CvssRating::Low);
  EXPECT_EQ(cvss_rating(4.0), CvssRating::Medium);
  EXPECT_EQ(cvss_rating(6.9), CvssRating::Medium);
  EXPECT_EQ(cvss_rating(7.0), CvssRating::High);
  EXPECT_EQ(cvss_rating(8.9), CvssRating::High);
  EXPECT_EQ(cvss_rating(9.0), CvssRating::Critical);
  EXPECT_EQ(cvss_rating(10.0), CvssRating::Critical);
  EXPECT_EQ(to_severity(CvssRating::Low), Severity::Low);
  EXPECT_EQ(to_severity(CvssRating::Critical), Severity::Critical);
  EXPECT_EQ(to_string(CvssRating::None), "None");
}

// ------------------------------------------------------------ severity --

TEST(VulnSeverity, VendorFirst) {
  const char* v31 = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H";  // 9.8
  auto d = vuln_severity("debian", "low", "nvd", "CRITICAL", "", v31);
  EXPECT_EQ(d.severity, Severity::Low);
  EXPECT_EQ(d.source, "debian");
  EXPECT_FALSE(d.below_low);
  EXPECT_DOUBLE_EQ(d.cvss_score, 9.8);  // still shown
  EXPECT_EQ(d.cvss_vector, v31);
  d = vuln_severity("debian", "unimportant", "", "", "", v31);
  EXPECT_EQ(d.severity, Severity::Low);
  EXPECT_TRUE(d.below_low);
  d = vuln_severity("debian", "medium**", "", "", "", "");  // Debian's estimated urgency
  EXPECT_EQ(d.severity, Severity::Medium);
  d = vuln_severity("ubuntu", "negligible", "", "", "", "");
  EXPECT_TRUE(d.below_low);
  // A word that says nothing passes to the advisory, then to CVSS.
  d = vuln_severity("debian", "not yet assigned", "ghsa", "MODERATE", "", v31);
  EXPECT_EQ(d.severity, Severity::Medium);
  EXPECT_EQ(d.source, "ghsa");
  d = vuln_severity("alpine", "", "nvd", "", "", v31);
  EXPECT_EQ(d.severity, Severity::Critical);
  EXPECT_EQ(d.source, "cvss:3.1");
  d = vuln_severity("redhat", "Important", "", "", "", "");
  EXPECT_EQ(d.severity, Severity::High);
  EXPECT_EQ(d.source, "redhat");
}

TEST(VulnSeverity, CvssV4BeforeV3AndMalformedSkipped) {
  const char* v4 = "CVSS:4.0/AV:L/AC:L/AT:N/PR:N/UI:A/VC:L/VI:N/VA:N/SC:N/SI:N/SA:N";  // 4.6
  const char* v3 = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H";                     // 9.8
  auto d = vuln_severity("", "", "", "", v4, v3);
  EXPECT_EQ(d.severity, Severity::Medium);
  EXPECT_EQ(d.source, "cvss:4.0");
  EXPECT_DOUBLE_EQ(d.cvss_score, 4.6);
  d = vuln_severity("", "", "", "", "CVSS:4.0/AV:L/AC:Q", v3);
  EXPECT_EQ(d.severity, Severity::Critical);
  EXPECT_EQ(d.source, "cvss:3.1");
  EXPECT_NE(d.cvss_error.find("metric AC has value \"Q\""), std::string::npos) << d.cvss_error;
  d = vuln_severity("", "", "", "", "", "CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N");
  EXPECT_EQ(d.severity, Severity::Low);
  EXPECT_TRUE(d.below_low);
  EXPECT_EQ(d.source, "cvss:3.0");
  d = vuln_severity("", "", "", "", "", " CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H\n");  // feed whitespace
  EXPECT_EQ(d.source, "cvss:3.1");
  EXPECT_EQ(d.cvss_vector, v3);
  d = vuln_severity("", "", "", "", v3, "");  // a v3 vector in the v4 field is refused
  EXPECT_EQ(d.source, "unknown");
  EXPECT_EQ(d.severity, Severity::Medium);
  EXPECT_FALSE(d.cvss_error.empty());
}

TEST(VulnSeverity, FromDatabaseRecords) {
  AffectedRecord rec;
  rec.ns = "debian:12";
  rec.feed = "debian-tracker";
  rec.severity = "high";
  Advisory adv;
  adv.id = "GHSA-xxxx-yyyy-zzzz";
  adv.severity = "LOW";
  adv.cvss_v3 = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N";
  auto d = vuln_severity(rec, &adv);
  EXPECT_EQ(d.source, "debian");
  EXPECT_EQ(d.severity, Severity::High);
  rec.severity = "";
  d = vuln_severity(rec, &adv);
  EXPECT_EQ(d.source, "ghsa");
  EXPECT_EQ(d.severity, Severity::Low);
  adv.severity = "";
  d = vuln_severity(rec, &adv);
  EXPECT_EQ(d.source, "cvss:3.1");
  EXPECT_EQ(d.severity, Severity::High);
  d = vuln_severity(rec, nullptr);
  EXPECT_EQ(d.source, "unknown");
  rec.ns = "npm";
  rec.feed = "osv";
  rec.severity = "CRITICAL";
  d = vuln_severity(rec, nullptr);
  EXPECT_EQ(d.source, "osv");
}

// ---------------------------------------------------------------- risk --

TEST(Risk, WorkedExamples) {
  // docs/vulnerabilities.md "Risk score": the same numbers.
  RiskInput a;  // Critical 9.8 in KEV, fixed, privileged and external workload
  a.severity = Severity::Critical;
  a.cvss_score = 9.8;
  a.kev = true;
  a.fix = FixState::Fixed;
  a.exposure = {Tri::Yes, Tri::No, Tri::Yes, Tri::Yes, Tri::Yes};
  EXPECT_DOUBLE_EQ(risk_score(a), 90.2);
  RiskInput b = a;  // the same image scanned alone
  b.exposure = {};
  EXPECT_DOUBLE_EQ(risk_score(b), 73.5);
  RiskInput c;  // Medium 5.3, no EPSS, unfixed, image alone
  c.severity = Severity::Medium;
  c.cvss_score = 5.3;
  EXPECT_DOUBLE_EQ(risk_score(c), 15.9);
  RiskInput d = c;  // EPSS 0.0004 (the typical CVE)
  d.epss = 0.0004;
  EXPECT_DOUBLE_EQ(risk_score(d), 13.1);
  RiskInput e;  // Debian "unimportant", won't fix
  e.severity = Severity::Low;
  e.below_low = true;
  e.fix = FixState::WontFix;
  EXPECT_DOUBLE_EQ(risk_score(e), 0.7);
  RiskInput top;
  top.severity = Severity::Critical;
  top.cvss_score = 10;
  top.kev = true;
  top.fix = FixState::Fixed;
  top.exposure = {Tri::Yes, Tri::Yes, Tri::Yes, Tri::Yes, Tri::Yes};
  EXPECT_DOUBLE_EQ(risk_score(top), 100.0);
  EXPECT_DOUBLE_EQ(exposure_factor({}), 0.75);
  EXPECT_DOUBLE_EQ(exposure_factor({Tri::No, Tri::No, Tri::No, Tri::No, Tri::No}), 0.5);
}

// Random inputs from a fixed seed; each property compares an input with one
// made worse in a single respect.
struct RiskGen {
  std::mt19937 rng{20261204};
  Tri tri() { return static_cast<Tri>(rng() % 3); }
  RiskInput input() {
    RiskInput in;
    in.severity = static_cast<Severity>(rng() % 4);
    in.below_low = rng() % 10 == 0;
    in.cvss_score = rng() % 4 == 0 ? -1 : static_cast<double>(rng() % 101) / 10;
    in.kev = rng() % 5 == 0;
    in.epss = rng() % 3 == 0 ? -1 : std::uniform_real_distribution<double>(0, 1)(rng);
    in.fix = static_cast<FixState>(rng() % 3);
    in.exposure = {tri(), tri(), tri(), tri(), tri()};
    return in;
  }
};

Tri worse(Tri t) {
  return t == Tri::No ? Tri::Unknown : Tri::Yes;
}

TEST(Risk, MonotonicProperties) {
  RiskGen g;
  for (int i = 0; i < 200000; ++i) {
    const RiskInput in = g.input();
    const double r = risk_score(in);
    ASSERT_GE(r, 0.0);
    ASSERT_LE(r, 100.0);
    // In KEV: never lower.
    RiskInput k = in;
    k.kev = true;
    ASSERT_GE(risk_score(k), r);
    // A higher EPSS: never lower.
    RiskInput p = in;
    p.epss = in.epss < 0 ? 0.5 : std::min(1.0, in.epss + 0.1);
    if (in.epss >= 0) {
      ASSERT_GE(risk_score(p), r);
    }
    // More severe: the next level (whatever its CVSS score), or a higher score
    // at the same level, or no longer below Low.
    if (in.severity != Severity::Critical && !in.below_low) {
      RiskInput s = in;
      s.severity = static_cast<Severity>(static_cast<int>(in.severity) + 1);
      s.cvss_score = g.rng() % 2 == 0 ? -1 : static_cast<double>(g.rng() % 101) / 10;
      ASSERT_GE(risk_score(s), r);
    }
    if (in.cvss_score >= 0) {
      RiskInput s = in;
      s.cvss_score = std::min(10.0, in.cvss_score + 0.1 * static_cast<double>(1 + g.rng() % 30));
      ASSERT_GE(risk_score(s), r);
    }
    if (in.below_low) {
      RiskInput s = in;
      s.below_low = false;
      s.severity = Severity::Low;
      ASSERT_GE(risk_score(s), r);
    }
    // More exposed, one fact at a time: never lower.
    for (int f = 0; f < 5; ++f) {
      RiskInput x = in;
      Tri* facts[] = {&x.exposure.privileged, &x.exposure.host_namespaces, &x.exposure.runs_as_root,
                      &x.exposure.external, &x.exposure.internet_egress};
      *facts[f] = worse(*facts[f]);
      ASSERT_GE(risk_score(x), r);
    }
    // A fix available: never lower than unfixed, which is never lower than won't-fix.
    RiskInput fixed = in, unfixed = in, wontfix = in;
    fixed.fix = FixState::Fixed;
    unfixed.fix = FixState::Unfixed;
    wontfix.fix = FixState::WontFix;
    ASSERT_GE(risk_score(fixed), risk_score(unfixed));
    ASSERT_GE(risk_score(unfixed), risk_score(wontfix));
  }
}

TEST(Risk, ApplyScoresFillsTheMatch) {
  VulnMatch m;
  m.fix = FixState::Fixed;
  m.epss = 0.9;
  const auto d =
      vuln_severity("debian", "", "nvd", "", "", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H");
  apply_scores(m, d, WorkloadExposure{});
  EXPECT_EQ(m.severity, Severity::Critical);
  EXPECT_EQ(m.severity_source, "cvss:3.1");
  EXPECT_DOUBLE_EQ(m.cvss_score, 9.8);
  EXPECT_EQ(m.cvss_vector, "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H");
  EXPECT_DOUBLE_EQ(m.risk, risk_score(risk_input(m, WorkloadExposure{})));
  EXPECT_GT(m.risk, 60.0);
}

}  // namespace
}  // namespace kg::vuln
