// Entry point of the kguard_layer_check_<layer> executables (CMakeLists.txt):
// they exist to be linked, never run.
int main() { return 0; }
