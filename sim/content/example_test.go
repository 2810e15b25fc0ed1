package content_test

import (
	"fmt"

	"github.com/wbsim/wbsim/sim/content"
)

// A page that write 3 filled in part: the rest of the page is zero.
func ExampleBytes_Overwrite() {
	page := content.Zeros(4096)
	page = page.Overwrite(0, content.Fill(512, 3, 0))
	fmt.Println(page)
	// A second write lands in the middle of the first.
	page = page.Overwrite(100, content.Fill(10, 4, 0))
	fmt.Println(page)
	// Output:
	// [0,512)=w3@0 [512,4096)=0
	// [0,100)=w3@0 [100,110)=w4@0 [110,512)=w3@110 [512,4096)=0
}

// Bytes that continue each other merge, so equal contents are equal values
// however they were put together.
func ExampleBytes_Append() {
	a := content.Fill(1024, 5, 0).Append(content.Fill(1024, 5, 1024))
	fmt.Println(a, a.Equal(content.Fill(2048, 5, 0)))
	// Output: [0,2048)=w5@0 true
}

// A misdirected write puts the right stamp at the wrong place: the Src
// labels show that the bytes at offset 4096 are not the ones that belong
// there.
func ExampleBytes_FirstDiff() {
	want := content.Fill(8192, 9, 0)
	got := content.Fill(4096, 9, 0).Append(content.Fill(4096, 9, 0)) // block 0 written twice
	fmt.Println(got)
	fmt.Println(got.FirstDiff(want))
	// Output:
	// [0,4096)=w9@0 [4096,8192)=w9@0
	// 4096
}

func ExampleParse() {
	b, err := content.Parse("[0,512)=w3@0 [512,4096)=0")
	fmt.Println(b.Len(), err)
	_, err = content.Parse("[0,512)=w3@0 [600,4096)=0")
	fmt.Println(err)
	// Output:
	// 4096 <nil>
	// content: parse "[600,4096)=0": run starts at 600, want 512
}

func ExampleCorrupt() {
	// A read that flipped bits in the middle of a sector.
	sector := content.Fill(512, 2, 0).Overwrite(64, content.Fill(8, content.Corrupt(1), 0))
	fmt.Println(sector)
	// Output: [0,64)=w2@0 [64,72)=c1@0 [72,512)=w2@72
}

// A disk is a Store: only written blocks cost memory, and a clone taken at a
// crash point keeps its contents while the original goes on.
func ExampleStore() {
	var disk content.Store
	disk.Write(1<<30, content.Fill(4096, 1, 0))
	crash := disk.Clone()
	disk.Write(1<<30+512, content.Fill(512, 2, 0))
	fmt.Println(disk.Size(), disk.Len())
	fmt.Println(disk.Read(1<<30-512, 2048))
	fmt.Println(crash.Read(1<<30-512, 2048))
	// Output:
	// 1073745920 3
	// [0,512)=0 [512,1024)=w1@0 [1024,1536)=w2@0 [1536,2048)=w1@1024
	// [0,512)=0 [512,2048)=w1@0
}
