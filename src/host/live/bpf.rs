//! The classic BPF program the kernel runs on every frame before queueing
//! it: a cheap pre-selection on ports; [`FlowFilter`](super::FlowFilter)
//! decides exactly in userspace.

use std::io;
use std::mem::size_of;
use std::os::fd::{AsRawFd, OwnedFd};

/// The kernel's limit on the length of a classic BPF program (BPF_MAXINSNS).
const BPF_MAXINSNS: usize = 4096;
/// Port tests between two `ret` islands, so that every conditional jump
/// (an 8-bit offset) reaches one.
const TESTS_PER_ISLAND: usize = 200;

// Instruction classes and modes from linux/filter.h.
const LD_H_ABS: u16 = 0x28;
const LD_B_ABS: u16 = 0x30;
const LD_H_IND: u16 = 0x48;
const LD_MEM: u16 = 0x60;
const LDX_B_MSH: u16 = 0xb1;
const ST: u16 = 0x02;
const JA: u16 = 0x05;
const JEQ_K: u16 = 0x15;
const JGT_K: u16 = 0x25;
const JGE_K: u16 = 0x35;
const JSET_K: u16 = 0x45;
const RET_K: u16 = 0x06;
const ACCEPT: u32 = crate::capture::MAX_SNAPLEN;
/// Scratch memory slots holding the source and destination port.
const SRC_PORT: u32 = 0;
const DST_PORT: u32 = 1;

/// A classic BPF program for Ethernet frames: IPv4 or IPv6 UDP/TCP with
/// either port among `ports` (all ports when empty), any ICMP/ICMPv6,
/// and every later IPv4 fragment and IPv6 fragment (they carry no
/// ports; the userspace fragment sorter keeps the flow's).
///
/// Any number of ports fits: runs of consecutive ports become one range
/// test, both address families share one list of port tests (the ports
/// are stored in scratch memory first), and a `ret` island follows every
/// [`TESTS_PER_ISLAND`] tests so no conditional jump needs an offset above
/// 255. Offsets are computed with checked arithmetic; should a program
/// still not fit (beyond the kernel's 4096 instructions: about 2,000
/// scattered ports), the kernel keeps every UDP/TCP/ICMP frame and the
/// exact [`FlowFilter`](super::FlowFilter) in userspace selects the ports alone.
pub(super) fn bpf_program(ports: &[u16]) -> Vec<libc::sock_filter> {
    let mut ports = ports.to_vec();
    ports.sort_unstable();
    ports.dedup();
    filter_program(&ports)
        .or_else(|| filter_program(&[]))
        .unwrap_or_else(|| {
            vec![libc::sock_filter {
                code: RET_K,
                jt: 0,
                jf: 0,
                k: ACCEPT,
            }]
        })
}

/// Attaches `program` to the socket (SO_ATTACH_FILTER).
pub(super) fn attach_filter(fd: &OwnedFd, program: &[libc::sock_filter]) -> io::Result<()> {
    let prog = libc::sock_fprog {
        // bpf_program never makes more than BPF_MAXINSNS (4096).
        len: u16::try_from(program.len())
            .map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?,
        filter: program.as_ptr() as *mut libc::sock_filter,
    };
    // SAFETY: prog points at `program`, alive for the call; the kernel copies it.
    if unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_ATTACH_FILTER,
            (&prog as *const libc::sock_fprog).cast(),
            size_of::<libc::sock_fprog>() as libc::socklen_t,
        )
    } != 0
    {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// The program for sorted, distinct `ports`; `None` if it does not fit.
fn filter_program(ports: &[u16]) -> Option<Vec<libc::sock_filter>> {
    let mut a = Assembler::default();
    let (ipv6, v4_ports, v6_ports) = (a.label(), a.label(), a.label());
    let (accept, reject, port_tests) = (a.label(), a.label(), a.label());
    use To::{Label, Next};

    a.stmt(LD_H_ABS, 12); // ethertype
    a.jump(JEQ_K, 0x0800, Next, Label(ipv6));
    a.stmt(LD_B_ABS, 23); // IPv4 protocol
    a.jump(JEQ_K, 1, Label(accept), Next); // ICMP
    a.jump(JEQ_K, 17, Label(v4_ports), Next); // UDP
    a.jump(JEQ_K, 6, Next, Label(reject)); // TCP
    a.place(v4_ports);
    a.stmt(LD_H_ABS, 20);
    // A later fragment carries no ports: kept, for the userspace filter
    // to match it to its first (fragments are rare on lo).
    a.jump(JSET_K, 0x1fff, Label(accept), Next);
    if ports.is_empty() {
        a.goto(accept);
    } else {
        a.stmt(LDX_B_MSH, 14); // X = IPv4 header length
        a.stmt(LD_H_IND, 14);
        a.stmt(ST, SRC_PORT);
        a.stmt(LD_H_IND, 16);
        a.stmt(ST, DST_PORT);
        a.goto(port_tests);
    }
    a.place(ipv6);
    a.jump(JEQ_K, 0x86dd, Next, Label(reject));
    a.stmt(LD_B_ABS, 20); // IPv6 next header
    a.jump(JEQ_K, 58, Label(accept), Next); // ICMPv6
    a.jump(JEQ_K, 44, Label(accept), Next); // a fragment: decided in userspace
    let udp_or_tcp = if ports.is_empty() { accept } else { v6_ports };
    a.jump(JEQ_K, 17, Label(udp_or_tcp), Next); // UDP
    a.jump(JEQ_K, 6, Label(udp_or_tcp), Label(reject)); // TCP
    a.place(accept);
    a.stmt(RET_K, ACCEPT);
    a.place(reject);
    a.stmt(RET_K, 0);
    if !ports.is_empty() {
        // The kernel's checker reads a program top to bottom, `ret`
        // included, and refuses a load from scratch memory unless every
        // way there stored it: so the IPv6 stores sit right above the
        // tests, after the `ret`s.
        a.place(v6_ports);
        a.stmt(LD_H_ABS, 54);
        a.stmt(ST, SRC_PORT);
        a.stmt(LD_H_ABS, 56);
        a.stmt(ST, DST_PORT);
        a.place(port_tests);
        for slot in [SRC_PORT, DST_PORT] {
            a.stmt(LD_MEM, slot);
            any_port(&mut a, ports);
        }
        a.stmt(RET_K, 0);
    }
    a.finish()
}

/// Accepts when A holds one of `ports` (sorted, distinct); falls through
/// otherwise. Each test jumps to the `ret` island closing its group.
fn any_port(a: &mut Assembler, ports: &[u16]) {
    let mut island = a.label();
    let mut since_island = 0;
    for (low, high) in runs(ports) {
        if since_island >= TESTS_PER_ISLAND {
            a.island(island);
            island = a.label();
            since_island = 0;
        }
        if high - low >= 2 {
            let below = a.label();
            a.jump(JGE_K, u32::from(low), To::Next, To::Label(below));
            a.jump(JGT_K, u32::from(high), To::Next, To::Label(island));
            a.place(below);
            since_island += 2;
        } else {
            for port in low..=high {
                a.jump(JEQ_K, u32::from(port), To::Label(island), To::Next);
                since_island += 1;
            }
        }
    }
    a.island(island);
}

/// Sorted distinct ports as runs of consecutive ports, `(first, last)`.
fn runs(ports: &[u16]) -> Vec<(u16, u16)> {
    let mut runs: Vec<(u16, u16)> = Vec::new();
    for &port in ports {
        match runs.last_mut() {
            Some((_, last)) if last.checked_add(1) == Some(port) => *last = port,
            _ => runs.push((port, port)),
        }
    }
    runs
}

/// Where a jump goes: the next instruction or a label.
#[derive(Clone, Copy)]
enum To {
    Next,
    Label(usize),
}

struct Instruction {
    code: u16,
    jt: To,
    jf: To,
    k: u32,
}

/// Lays out a program with forward labels, resolved by [`Assembler::finish`].
#[derive(Default)]
struct Assembler {
    code: Vec<Instruction>,
    labels: Vec<Option<usize>>,
}

impl Assembler {
    fn label(&mut self) -> usize {
        self.labels.push(None);
        self.labels.len() - 1
    }

    fn place(&mut self, label: usize) {
        self.labels[label] = Some(self.code.len());
    }

    fn stmt(&mut self, code: u16, k: u32) {
        self.jump(code, k, To::Next, To::Next);
    }

    fn jump(&mut self, code: u16, k: u32, jt: To, jf: To) {
        self.code.push(Instruction { code, jt, jf, k });
    }

    /// An unconditional jump (32-bit offset).
    fn goto(&mut self, label: usize) {
        self.jump(JA, 0, To::Label(label), To::Next);
    }

    /// `ret ACCEPT` at `label`, jumped over by the code before it.
    fn island(&mut self, label: usize) {
        let over = self.label();
        self.goto(over);
        self.place(label);
        self.stmt(RET_K, ACCEPT);
        self.place(over);
    }

    /// The program, or `None` if it is longer than the kernel takes, a
    /// conditional jump would need more than 8 bits, or a label is
    /// missing, behind its jump or past the end.
    fn finish(self) -> Option<Vec<libc::sock_filter>> {
        let len = self.code.len();
        if len == 0 || len > BPF_MAXINSNS {
            return None;
        }
        let offset = |to: To, at: usize| -> Option<usize> {
            let target = match to {
                To::Next => at.checked_add(1)?,
                To::Label(label) => (*self.labels.get(label)?)?,
            };
            if target >= len {
                return None;
            }
            target.checked_sub(at.checked_add(1)?)
        };
        self.code
            .iter()
            .enumerate()
            .map(|(at, ins)| {
                let (jt, jf, k) = if ins.code == JA {
                    (0, 0, u32::try_from(offset(ins.jt, at)?).ok()?)
                } else if ins.code & 0x07 == 0x05 {
                    let jt = u8::try_from(offset(ins.jt, at)?).ok()?;
                    let jf = u8::try_from(offset(ins.jf, at)?).ok()?;
                    (jt, jf, ins.k)
                } else {
                    (0, 0, ins.k)
                };
                Some(libc::sock_filter {
                    code: ins.code,
                    jt,
                    jf,
                    k,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::frame::Datagram;
    use std::net::SocketAddr;

    /// Checks what the kernel's checker (`bpf_check_classic`) would:
    /// a length it takes, every jump inside the program, a `ret` last.
    fn verify(program: &[libc::sock_filter]) {
        assert!(
            (1..=BPF_MAXINSNS).contains(&program.len()),
            "{} instructions",
            program.len()
        );
        for (at, ins) in program.iter().enumerate() {
            let targets: Vec<usize> = match ins.code {
                JA => vec![at + 1 + ins.k as usize],
                c if c & 0x07 == 0x05 => {
                    vec![at + 1 + usize::from(ins.jt), at + 1 + usize::from(ins.jf)]
                }
                _ => vec![],
            };
            for t in targets {
                assert!(
                    t < program.len(),
                    "instruction {at} jumps to {t}, past the end"
                );
            }
        }
        assert_eq!(program.last().map(|i| i.code), Some(RET_K));
        // check_load_and_stores() in net/core/filter.c: one pass top to
        // bottom; a jump narrows what its targets may assume stored.
        let mut masks = vec![u16::MAX; program.len()];
        let mut stored: u16 = 0;
        for (at, ins) in program.iter().enumerate() {
            stored &= masks[at];
            match ins.code {
                ST => stored |= 1 << ins.k,
                LD_MEM => assert!(
                    stored & (1 << ins.k) != 0,
                    "instruction {at} loads M[{}] before any store",
                    ins.k
                ),
                JA => {
                    masks[at + 1 + ins.k as usize] &= stored;
                    stored = u16::MAX;
                }
                c if c & 0x07 == 0x05 => {
                    masks[at + 1 + usize::from(ins.jt)] &= stored;
                    masks[at + 1 + usize::from(ins.jf)] &= stored;
                    stored = u16::MAX;
                }
                _ => {}
            }
        }
    }

    /// Runs `program` over `frame` as the kernel would: the snap length
    /// to keep (0: drop). A load past the end of the frame drops it.
    fn run(program: &[libc::sock_filter], frame: &[u8]) -> u32 {
        let (mut a, mut x, mut mem, mut pc) = (0u32, 0u32, [0u32; 16], 0usize);
        let half = |at: usize| {
            frame
                .get(at..at + 2)
                .map(|b| u32::from(u16::from_be_bytes([b[0], b[1]])))
        };
        loop {
            let ins = &program[pc];
            pc += 1;
            let k = ins.k as usize;
            let (jt, jf) = (usize::from(ins.jt), usize::from(ins.jf));
            match ins.code {
                LD_H_ABS => match half(k) {
                    Some(v) => a = v,
                    None => return 0,
                },
                LD_B_ABS => match frame.get(k) {
                    Some(&v) => a = u32::from(v),
                    None => return 0,
                },
                LD_H_IND => match half(x as usize + k) {
                    Some(v) => a = v,
                    None => return 0,
                },
                LDX_B_MSH => match frame.get(k) {
                    Some(&v) => x = 4 * u32::from(v & 0x0f),
                    None => return 0,
                },
                LD_MEM => a = mem[k],
                ST => mem[k] = a,
                JA => pc += k,
                JEQ_K => pc += if a == ins.k { jt } else { jf },
                JGT_K => pc += if a > ins.k { jt } else { jf },
                JGE_K => pc += if a >= ins.k { jt } else { jf },
                JSET_K => pc += if a & ins.k != 0 { jt } else { jf },
                RET_K => return ins.k,
                code => panic!("instruction {code:#x} is not one lola emits"),
            }
        }
    }

    fn udp(src: &str, dst: &str) -> Vec<u8> {
        let (src, dst): (SocketAddr, SocketAddr) = (src.parse().unwrap(), dst.parse().unwrap());
        crate::packet::frame::build_frame(&Datagram::new(src, dst, b"Hello Lola".to_vec())).unwrap()
    }

    fn tcp(src: u16, dst: u16) -> Vec<u8> {
        let mut out = Vec::new();
        etherparse::PacketBuilder::ethernet2([0; 6], [0; 6])
            .ipv4([127, 0, 0, 1], [127, 0, 0, 1], 64)
            .tcp(src, dst, 1, 65535)
            .write(&mut out, &[])
            .unwrap();
        out
    }

    /// The four frames that must be kept when `port` is filtered on
    /// (their other port is 65000).
    fn frames_on(port: u16) -> [Vec<u8>; 4] {
        [
            udp("127.0.0.1:65000", &format!("127.0.0.1:{port}")),
            udp(&format!("127.0.0.1:{port}"), "127.0.0.1:65000"),
            udp("[::1]:65000", &format!("[::1]:{port}")),
            tcp(65000, port),
        ]
    }

    /// `n` ports three apart (so none merge into a range), from 20000.
    fn scattered(n: usize) -> Vec<u16> {
        (0..n).map(|i| 20000 + 3 * i as u16).collect()
    }

    #[test]
    fn every_listed_port_is_kept_and_no_other_whatever_the_count() {
        // 61 and 100 ports once wrapped the 8-bit jump offsets and lost frames.
        for n in [1, 2, 60, 61, 100, 255, 256, 1000] {
            let ports = scattered(n);
            let program = bpf_program(&ports);
            verify(&program);
            assert!(
                program.len() > 2 * n,
                "{n} ports: filtered in the kernel, not the fallback"
            );
            for &port in &ports {
                for (i, frame) in frames_on(port).iter().enumerate() {
                    assert_eq!(
                        run(&program, frame),
                        ACCEPT,
                        "{n} ports: frame {i} on port {port}"
                    );
                }
                for (i, frame) in frames_on(port + 1).iter().enumerate() {
                    assert_eq!(
                        run(&program, frame),
                        0,
                        "{n} ports: frame {i} on unlisted {}",
                        port + 1
                    );
                }
            }
        }
    }

    #[test]
    fn consecutive_ports_are_one_range_test() {
        let ports: Vec<u16> = (1000..=60000).collect();
        let program = bpf_program(&ports);
        verify(&program);
        assert!(program.len() < 48, "{} instructions", program.len());
        for port in [1000, 1001, 30000, 59999, 60000] {
            assert!(
                frames_on(port).iter().all(|f| run(&program, f) == ACCEPT),
                "{port}"
            );
        }
        for port in [999, 60001] {
            assert!(
                frames_on(port).iter().all(|f| run(&program, f) == 0),
                "{port}"
            );
        }
        let all: Vec<u16> = (0..=u16::MAX).collect();
        let program = bpf_program(&all);
        assert!(
            frames_on(0)
                .iter()
                .chain(&frames_on(65535))
                .all(|f| run(&program, f) == ACCEPT)
        );
    }

    #[test]
    fn too_many_scattered_ports_leave_the_choice_to_the_userspace_filter() {
        let ports = scattered(3000);
        let program = bpf_program(&ports);
        verify(&program);
        let unfiltered = bpf_program(&[]);
        assert_eq!(program.len(), unfiltered.len());
        assert!(
            frames_on(20001).iter().all(|f| run(&program, f) == ACCEPT),
            "kept for userspace"
        );
        let mut arp = udp("127.0.0.1:1", "127.0.0.1:2");
        arp[12..14].copy_from_slice(&[0x08, 0x06]);
        assert_eq!(run(&program, &arp), 0, "still only IP");
    }

    #[test]
    fn icmp_and_fragments_are_kept_and_other_protocols_are_not() {
        let program = bpf_program(&[7456]);
        let mut reader =
            crate::capture::CaptureReader::open("fixtures/seed-ipv4-no-listener.pcap".as_ref())
                .unwrap();
        reader.next_frame().unwrap();
        let icmp = reader.next_frame().unwrap().unwrap().data.to_vec();
        assert_eq!(
            run(&program, &icmp),
            ACCEPT,
            "ICMP errors are judged in userspace"
        );
        let mut fragment = udp("127.0.0.1:40000", "127.0.0.1:7456");
        assert_eq!(run(&program, &fragment), ACCEPT);
        fragment[20..22].copy_from_slice(&[0x00, 0x10]); // offset 128 bytes
        assert_eq!(
            run(&program, &fragment),
            ACCEPT,
            "no ports: judged in userspace"
        );
        fragment[36..38].copy_from_slice(&[0x11, 0x11]); // bytes of data, not a port
        assert_eq!(run(&program, &fragment), ACCEPT);
        let mut v6_fragment = udp("[::1]:40000", "[::1]:9");
        v6_fragment[20] = 44; // next header: Fragment
        assert_eq!(run(&program, &v6_fragment), ACCEPT, "judged in userspace");
        let mut truncated = udp("127.0.0.1:40000", "127.0.0.1:7456");
        truncated.truncate(14 + 20 + 2);
        assert_eq!(run(&program, &truncated), 0, "no destination port to read");
        let mut gre = udp("127.0.0.1:40000", "127.0.0.1:7456");
        gre[23] = 47;
        assert_eq!(run(&program, &gre), 0);
        assert_eq!(
            run(&bpf_program(&[]), &udp("[::1]:1", "[::1]:2")),
            ACCEPT,
            "no ports: all"
        );
    }

    #[test]
    fn consecutive_runs_are_found() {
        assert_eq!(
            runs(&[1, 2, 3, 5, 7, 8, 65535]),
            [(1, 3), (5, 5), (7, 8), (65535, 65535)]
        );
        assert_eq!(runs(&[]), []);
    }
}
