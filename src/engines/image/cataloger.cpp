// The interface is header-only; this unit keeps the header self-contained
// (it must compile alone) and gives the image layer a translation unit.
#include "engines/image/cataloger.hpp"
